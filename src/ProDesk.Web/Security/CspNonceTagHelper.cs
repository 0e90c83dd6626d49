using Microsoft.AspNetCore.Mvc.Rendering;
using Microsoft.AspNetCore.Mvc.ViewFeatures;
using Microsoft.AspNetCore.Razor.TagHelpers;

namespace ProDesk.Web.Security;

/// <summary>
/// Gives every <c>&lt;script&gt;</c> and <c>&lt;style&gt;</c> element written by a Razor page this
/// request's CSP nonce, so no page can forget it: an inline block runs, and a script that was not
/// written by us (injected markup) does not.
/// </summary>
[HtmlTargetElement("script")]
[HtmlTargetElement("style")]
public sealed class CspNonceTagHelper : TagHelper
{
    [ViewContext]
    [HtmlAttributeNotBound]
    public ViewContext ViewContext { get; set; } = null!;

    // After the built-in script tag helper (asp-append-version), which runs at order -1000.
    public override int Order => 1000;

    public override void Process(TagHelperContext context, TagHelperOutput output) =>
        output.Attributes.SetAttribute("nonce", ViewContext.HttpContext.CspNonce());
}
