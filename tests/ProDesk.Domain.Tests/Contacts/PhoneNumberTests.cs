using ProDesk.Domain.Contacts;

namespace ProDesk.Domain.Tests.Contacts;

public sealed class PhoneNumberTests
{
    [Theory]
    [InlineData("+33 1 23 45 67 89", "+33123456789")]
    [InlineData("+33123456789", "+33123456789")]
    [InlineData(" (555) 123-4567 ", "5551234567")]
    [InlineData("+1.555.010.0001", "+15550100001")]
    public void Drops_separators_and_keeps_a_leading_plus(string input, string expected)
    {
        Assert.Equal(expected, PhoneNumber.Normalize(input));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("12")]
    [InlineData("call me")]
    [InlineData("+33 1 23 45 67 89 ext 2")]
    [InlineData("++33123")]
    [InlineData("123456789012345678901")]
    public void Refuses_what_is_not_a_number(string? input)
    {
        Assert.Null(PhoneNumber.Normalize(input));
    }
}
