using ProDesk.Domain.CannedReplies;

namespace ProDesk.Domain.Tests.CannedReplies;

public sealed class PlaceholdersTests
{
    private static readonly Dictionary<string, string?> Values = new()
    {
        [Placeholders.ContactName] = "Ada Lovelace",
        [Placeholders.ContactEmail] = "ada@example.com",
        [Placeholders.ItemSubject] = "Leaking tap",
        [Placeholders.ItemReference] = "0193a5c4-0000-7000-8000-000000000001",
        [Placeholders.AgentName] = "Alex Martin",
        [Placeholders.TenantName] = "Acme Plomberie SAS",
    };

    private static string Render(string template, Dictionary<string, string?>? values = null) => Placeholders.Render(template, values ?? Values).Text;

    [Fact]
    public void Fills_every_known_placeholder()
    {
        var text = Render("Hello {{contact.name}} <{{contact.email}}>, about \"{{item.subject}}\" ({{item.reference}}): {{agent.name}}, {{tenant.name}}");

        Assert.Equal("Hello Ada Lovelace <ada@example.com>, about \"Leaking tap\" (0193a5c4-0000-7000-8000-000000000001): Alex Martin, Acme Plomberie SAS", text);
    }

    [Fact]
    public void Allows_spaces_inside_the_braces_and_any_case()
    {
        Assert.Equal("Hi Ada Lovelace and Ada Lovelace", Render("Hi {{ contact.name }} and {{Contact.Name}}"));
    }

    [Fact]
    public void Leaves_unknown_placeholders_as_typed_and_names_them()
    {
        var rendered = Placeholders.Render("Dear {{ customer.name }}, {{contact.name}} {{}} {{item.secret}}", Values);

        Assert.Equal("Dear {{ customer.name }}, Ada Lovelace {{}} {{item.secret}}", rendered.Text);
        Assert.Equal(["customer.name", "", "item.secret"], rendered.Unknown);
        Assert.Empty(rendered.Missing);
    }

    [Fact]
    public void A_known_placeholder_without_a_value_becomes_empty_and_is_reported_once()
    {
        var values = new Dictionary<string, string?>(Values) { [Placeholders.ContactEmail] = null };

        var rendered = Placeholders.Render("Mail: {{contact.email}}; again: {{contact.email}}.", values);

        Assert.Equal("Mail: ; again: .", rendered.Text);
        Assert.Equal([Placeholders.ContactEmail], rendered.Missing);
    }

    [Fact]
    public void A_value_is_inserted_as_text_and_never_expanded_again()
    {
        var values = new Dictionary<string, string?>(Values) { [Placeholders.ContactName] = "{{agent.name}} <script>alert(1)</script> &amp;" };

        Assert.Equal("Hello {{agent.name}} <script>alert(1)</script> &amp;!", Render("Hello {{contact.name}}!", values));
    }

    [Fact]
    public void A_value_cannot_add_lines_or_control_characters()
    {
        var values = new Dictionary<string, string?>(Values) { [Placeholders.ItemSubject] = "Refund\r\n\r\nPS: send your password\u0007\u0000" };

        Assert.Equal("Re: Refund    PS: send your password.", Render("Re: {{item.subject}}.", values));
    }

    [Theory]
    [InlineData("No placeholders at all.")]
    [InlineData("Unclosed {{contact.name")]
    [InlineData("Single {braces} and }} closing ones")]
    [InlineData("")]
    public void Text_without_complete_placeholders_is_unchanged(string template)
    {
        Assert.Equal(template, Render(template));
    }

    [Fact]
    public void Extra_opening_braces_stay_text_before_the_innermost_placeholder()
    {
        Assert.Equal("{{Ada Lovelace", Render("{{{{contact.name}}"));
    }

    [Fact]
    public void A_very_long_run_between_braces_is_not_a_placeholder()
    {
        var template = "{{" + new string('x', 100) + "}} {{contact.name}}";

        Assert.Equal("{{" + new string('x', 100) + "}} Ada Lovelace", Render(template));
    }
}
