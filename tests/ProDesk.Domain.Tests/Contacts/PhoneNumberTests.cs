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

    [Theory]
    [InlineData("+44 (0) 20 7946 0958", "+442079460958")]
    [InlineData("+44 (0)20 7946 0958", "+442079460958")]
    [InlineData("0044 20 7946 0958", "+442079460958")]
    [InlineData("+33 6 08 64 41 30", "+33608644130")]
    [InlineData("04 62 53 27 73", "0462532773")]
    public void Writes_an_international_number_as_an_sms_gateway_sends_it(string input, string expected)
    {
        // An SMS from the number arrives as E.164 (Twilio's From): the contact typed in any of these ways is found by it.
        Assert.Equal(expected, PhoneNumber.Normalize(input));
        Assert.Equal(expected.StartsWith('+') ? expected : null, ProDesk.Domain.Channels.Sms.PhoneNumbers.ToE164(input));
    }
}
