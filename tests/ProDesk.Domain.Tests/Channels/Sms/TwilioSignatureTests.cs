using ProDesk.Domain.Channels.Sms;

namespace ProDesk.Domain.Tests.Channels.Sms;

/// <summary>
/// Expected signatures are the published vectors of Twilio's own helper libraries (the
/// RequestValidator tests of twilio-csharp, twilio-php and twilio-python: auth token 12345), so a
/// self-consistent but wrong implementation cannot pass.
/// </summary>
public sealed class TwilioSignatureTests
{
    private const string AuthToken = "12345";
    private const string Url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    private const string Signature = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";

    // Deliberately out of name order, as in the library tests.
    private static readonly KeyValuePair<string, string>[] Form =
    [
        new("CallSid", "CA1234567890ABCDE"),
        new("From", "+14158675309"),
        new("Digits", "1234"),
        new("To", "+18005551212"),
        new("Caller", "+14158675309"),
    ];

    private static KeyValuePair<string, string>[] With(string name, string value) =>
        Form.Select(p => p.Key == name ? KeyValuePair.Create(name, value) : p).ToArray();

    [Fact]
    public void Computes_twilios_published_example()
    {
        Assert.Equal(Signature, TwilioSignature.Compute(Url, Form, AuthToken));
        Assert.True(TwilioSignature.IsValid(Url, Form, AuthToken, Signature));
    }

    [Fact]
    public void Parameter_order_does_not_matter() =>
        Assert.Equal(Signature, TwilioSignature.Compute(Url, Form.Reverse(), AuthToken));

    [Fact]
    public void A_repeated_name_signs_each_distinct_value_once_in_value_order()
    {
        // twilio-php / twilio-python vector: Digits sent as 5678, 1234, 1234.
        KeyValuePair<string, string>[] form =
        [
            new("Sid", "CA123"),
            new("SidAccount", "AC123"),
            new("Digits", "5678"),
            new("Digits", "1234"),
            new("Digits", "1234"),
        ];
        Assert.Equal("IK+Dwps556ElfBT0I3Rgjkr1wJU=", TwilioSignature.Compute(Url, form, AuthToken));
        Assert.Equal("IK+Dwps556ElfBT0I3Rgjkr1wJU=", TwilioSignature.Compute(Url, form.Reverse(), AuthToken));
        // The repeat of 1234 adds nothing: the same distinct values give the same signature.
        Assert.Equal("IK+Dwps556ElfBT0I3Rgjkr1wJU=", TwilioSignature.Compute(Url, form.Take(4), AuthToken));
        Assert.NotEqual(
            TwilioSignature.Compute(Url, form, AuthToken),
            TwilioSignature.Compute(Url, [.. form, new("Digits", "9999")], AuthToken));
    }

    [Fact]
    public void The_url_is_signed_as_given_so_host_case_matters()
    {
        const string mixedCase = "https://MyCompany.com/myapp.php?foo=1&bar=2";
        Assert.Equal("g9IN/x4Cft2g517EjYvEvM/W7LU=", TwilioSignature.Compute(mixedCase, Form, AuthToken));
        Assert.False(TwilioSignature.IsValid(mixedCase, Form, AuthToken, Signature));
    }

    [Fact]
    public void Accepts_the_signature_of_the_url_with_the_default_port_added()
    {
        Assert.True(TwilioSignature.IsValid(Url, Form, AuthToken, "kvajT1Ptam85bY51eRf/AJRuM3w="));
        Assert.True(TwilioSignature.IsValid("http://mycompany.com/myapp.php?foo=1&bar=2", Form, AuthToken, "0ZXoZLH/DfblKGATFgpif+LLRf4="));
    }

    [Fact]
    public void Accepts_the_signature_of_the_url_with_its_port_removed_or_as_given()
    {
        Assert.True(TwilioSignature.IsValid("https://mycompany.com:1234/myapp.php?foo=1&bar=2", Form, AuthToken, Signature));
        Assert.True(TwilioSignature.IsValid("http://mycompany.com:1234/myapp.php?foo=1&bar=2", Form, AuthToken, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="));
        Assert.Equal("Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", TwilioSignature.Compute("http://mycompany.com:1234/myapp.php?foo=1&bar=2", Form, AuthToken));
    }

    [Fact]
    public void Port_tolerance_does_not_reach_the_path_or_query()
    {
        Assert.False(TwilioSignature.IsValid(Url + "&extra=1", Form, AuthToken, Signature));
        Assert.False(TwilioSignature.IsValid("https://mycompany.com/other.php?foo=1&bar=2", Form, AuthToken, Signature));
        Assert.False(TwilioSignature.IsValid("https://mycompany.com:1234/myapp.php?foo=1&bar=3", Form, AuthToken, Signature));
    }

    [Fact]
    public void Refuses_a_changed_value_an_added_or_missing_parameter_and_another_token()
    {
        Assert.False(TwilioSignature.IsValid(Url, With("Digits", "9999"), AuthToken, Signature));
        Assert.False(TwilioSignature.IsValid(Url, [.. Form, new("Body", "hi")], AuthToken, Signature));
        Assert.False(TwilioSignature.IsValid(Url, Form.Skip(1), AuthToken, Signature));
        Assert.False(TwilioSignature.IsValid(Url, Form, "54321", Signature));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("FAIL")]
    [InlineData("NOTRSOYDt4T1cUTdK1PDd93/VVr8B8=")]
    [InlineData("RSOYDt4T1cUTdK1PDd93/VVr8B8")]
    [InlineData(" RSOYDt4T1cUTdK1PDd93/VVr8B8=")]
    [InlineData("rsoydt4t1cutdk1pdd93/vvr8b8=")]
    [InlineData("RSOYDt4T1cUTdK1PDd93/VVr8B9=")]
    [InlineData("invalid 王")]
    public void Refuses_a_missing_or_malformed_header(string? header) =>
        Assert.False(TwilioSignature.IsValid(Url, Form, AuthToken, header));

    [Fact]
    public void Values_are_signed_verbatim_as_utf8()
    {
        var plain = TwilioSignature.Compute(Url, With("Digits", "Grusse"), AuthToken);
        var umlaut = TwilioSignature.Compute(Url, With("Digits", "Grüße"), AuthToken);
        Assert.NotEqual(plain, umlaut);
        Assert.True(TwilioSignature.IsValid(Url, With("Digits", "Grüße"), AuthToken, umlaut));
        Assert.False(TwilioSignature.IsValid(Url, With("Digits", "Gr%C3%BC%C3%9Fe"), AuthToken, umlaut));
    }
}
