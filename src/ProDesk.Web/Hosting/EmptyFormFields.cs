using System.Reflection;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding.Metadata;

namespace ProDesk.Web.Hosting;

/// <summary>
/// Page model binding turns an empty form field into null, also for a property declared non-nullable
/// (<c>public string Email { get; set; } = ""</c>), whose code then failed on it: an empty email on
/// /login was a 500. Such properties keep the empty string; nullable ones still get null.
/// </summary>
public sealed class EmptyFormFields : IDisplayMetadataProvider
{
    public static void Keep(WebApplicationBuilder builder) =>
        builder.Services.Configure<MvcOptions>(o => o.ModelMetadataDetailsProviders.Add(new EmptyFormFields()));

    public void CreateDisplayMetadata(DisplayMetadataProviderContext context)
    {
        if (context.Key.ModelType == typeof(string) && context.Key.PropertyInfo is { } property
            && new NullabilityInfoContext().Create(property).WriteState == NullabilityState.NotNull)
        {
            context.DisplayMetadata.ConvertEmptyStringToNull = false;
        }
    }
}
