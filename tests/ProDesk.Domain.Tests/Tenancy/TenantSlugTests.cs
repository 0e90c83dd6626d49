using ProDesk.Domain.Tenancy;

namespace ProDesk.Domain.Tests.Tenancy;

public sealed class TenantSlugTests
{
    [Theory]
    [InlineData("acme")]
    [InlineData("sla-lab")]
    [InlineData("north-wind-2")]
    [InlineData("a1")]
    public void Accepts_lowercase_words_joined_by_single_hyphens(string slug) => Assert.Null(TenantSlug.Explain(slug));

    [Theory]
    [InlineData("", "is empty")]
    [InlineData("Acme", "lowercase")]
    [InlineData("1acme", "starting with a letter")]
    [InlineData("acme--corp", "single hyphens")]
    [InlineData("acme-", "single hyphens")]
    [InlineData("ac me", "lowercase")]
    [InlineData("../etc", "lowercase")]
    [InlineData("acme\n", "lowercase")]
    [InlineData("api", "reserved")]
    [InlineData("hangfire", "reserved")]
    public void Refuses_what_is_unsafe_in_urls_client_ids_and_emails_and_says_why(string slug, string why)
    {
        var explanation = TenantSlug.Explain(slug);
        Assert.NotNull(explanation);
        Assert.Contains(why, explanation, StringComparison.Ordinal);
        Assert.False(TenantSlug.IsValid(slug));
    }

    [Fact]
    public void Refuses_a_slug_longer_than_the_maximum()
    {
        Assert.True(TenantSlug.IsValid(new string('a', TenantSlug.MaxLength)));
        Assert.Contains("longer", TenantSlug.Explain(new string('a', TenantSlug.MaxLength + 1)), StringComparison.Ordinal);
    }
}
