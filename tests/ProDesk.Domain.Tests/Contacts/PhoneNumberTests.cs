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

    [Theory]
    [InlineData("06 12 34 56 78", "FR", "+33612345678")]
    [InlineData("0462532773", "FR", "+33462532773")]
    [InlineData("04.62.53.27.73", "FR", "+33462532773")]
    [InlineData("+33 6 12 34 56 78", "FR", "+33612345678")]
    [InlineData("0044 20 7946 0958", "FR", "+442079460958")]
    [InlineData("(202) 456-1111", "US", "+12024561111")]
    [InlineData("8123 4567", "SG", "+6581234567")]
    public void Completes_a_national_number_with_the_tenants_country(string input, string region, string expected)
    {
        // As the SMS gateway sends the same person's number: "06 12 34 56 78" and +33612345678 are one contact.
        Assert.Equal(expected, PhoneNumber.Normalize(input, region));
    }

    [Theory]
    [InlineData("0612345678", null, "0612345678")]
    [InlineData("3949", "FR", "3949")]
    [InlineData("0612345678", "US", "0612345678")]
    public void Keeps_a_national_number_as_typed_without_a_country_or_when_it_is_none_there(string input, string? region, string expected)
    {
        Assert.Equal(expected, PhoneNumber.Normalize(input, region));
    }

    [Theory]
    [InlineData("+33612345678", "FR", "0612345678")]
    [InlineData("+12024561111", "US", "2024561111")]
    [InlineData("+33612345678", "US", null)]
    [InlineData("+33612345678", null, null)]
    [InlineData("ACME", "FR", null)]
    public void The_national_spelling_of_a_number_is_that_of_the_tenants_country_only(string number, string? region, string? expected)
    {
        Assert.Equal(expected, PhoneNumber.NationalDigits(number, region));
    }

    [Theory]
    [InlineData("Europe/Paris", "FR")]
    [InlineData("America/New_York", "US")]
    [InlineData("Asia/Singapore", "SG")]
    [InlineData("Etc/UTC", null)]
    [InlineData("Mars/Olympus", null)]
    public void A_tenants_country_is_the_one_of_its_time_zone(string timeZone, string? expected)
    {
        Assert.Equal(expected, PhoneRegion.OfTimeZone(timeZone));
    }
}
