namespace ProDesk.Web.Hosting;

/// <summary>
/// An enum member from its name only. Enum.TryParse also takes numbers ("999") and comma lists
/// ("Open,Closed"), which name no member and would reach the database as values nothing means.
/// </summary>
public static class EnumNames
{
    public static bool TryParse<TEnum>(string? text, bool ignoreCase, out TEnum value)
        where TEnum : struct, Enum
    {
        var comparison = ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        var name = Enum.GetNames<TEnum>().FirstOrDefault(n => string.Equals(n, text?.Trim(), comparison));
        value = name is null ? default : Enum.Parse<TEnum>(name);
        return name is not null;
    }
}
