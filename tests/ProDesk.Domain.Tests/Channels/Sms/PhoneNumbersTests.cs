using ProDesk.Domain.Channels.Sms;

namespace ProDesk.Domain.Tests.Channels.Sms;

public sealed class PhoneNumbersTests
{
    [Theory]
    [InlineData("+15551234567", "+15551234567")]
    [InlineData(" +1 (555) 123-4567 ", "+15551234567")]
    [InlineData("+33 6 12 34 56 78", "+33612345678")]
    [InlineData("0033.6.12.34.56.78", "+33612345678")]
    public void International_numbers_become_e164(string written, string e164) =>
        Assert.Equal(e164, PhoneNumbers.ToE164(written));

    [Theory]
    [InlineData("06 12 34 56 78")] // national: no country to assume
    [InlineData("12345")] // short code
    [InlineData("ACME")] // alphanumeric sender id
    [InlineData("+0123456789")] // no country code starts with 0
    [InlineData("+1234567890123456")] // 16 digits
    [InlineData("+155512")] // too short: 6 digits
    [InlineData("+1555\n1234567")]
    [InlineData("")]
    public void Anything_else_is_not_e164(string written) =>
        Assert.Null(PhoneNumbers.ToE164(written));

    [Theory]
    [InlineData("+15551234567", "sms", "+15551234567")]
    [InlineData("whatsapp:+15551234567", "whatsapp", "+15551234567")]
    [InlineData("WhatsApp: +44 7700 900123", "whatsapp", "+447700900123")]
    [InlineData("12345", "sms", "12345")]
    public void Twilio_addresses_name_their_channel(string address, string channel, string number) =>
        Assert.Equal((channel, number), PhoneNumbers.FromTwilioAddress(address));

    [Fact]
    public void Whatsapp_numbers_go_out_prefixed()
    {
        Assert.Equal("whatsapp:+15551234567", PhoneNumbers.ToTwilioAddress("whatsapp", "+15551234567"));
        Assert.Equal("+15551234567", PhoneNumbers.ToTwilioAddress("sms", "+15551234567"));
    }

    [Theory]
    [InlineData("+15551230001", true)]
    [InlineData("72345", true)]
    [InlineData("VERIFY", true)]
    [InlineData("My Bank 24", true)]
    [InlineData("12", false)]
    [InlineData("123456789", false)]
    [InlineData("TooLongSender", false)]
    [InlineData(" VERIFY", false)]
    [InlineData("+15557770004\r\nX: y", false)]
    [InlineData("<script>", false)]
    [InlineData("", false)]
    public void A_sender_is_an_e164_number_a_short_code_or_an_alphanumeric_id(string number, bool sender) =>
        Assert.Equal(sender, PhoneNumbers.IsSender(number));
}
