using ProDesk.Domain.Channels.Email;

namespace ProDesk.Domain.Tests.Channels.Email;

public sealed class DeliveryStatusTests
{
    // Shaped like the examples in RFC 3464 appendix: a per-message block, then one block per recipient.
    private const string Report = """
        Reporting-MTA: dns; mx1.example.test
        Arrival-Date: Mon, 3 Mar 2025 10:00:00 +0000

        Final-Recipient: rfc822; Gone.User@Client.test
        Action: failed
        Status: 5.1.1
        Diagnostic-Code: smtp; 550 5.1.1 <gone.user@client.test>: Recipient address rejected

        Final-Recipient: rfc822; slow@client.test
        Action: delayed
        Status: 4.4.1
        Will-Retry-Until: Tue, 4 Mar 2025 10:00:00 +0000

        Original-Recipient: rfc822; ok@client.test
        Final-Recipient: rfc822; ok@client.test
        Action: delivered
        Status: 2.0.0
        """;

    [Fact]
    public void Reads_each_recipient_block_and_skips_the_per_message_block()
    {
        var report = DeliveryStatus.Parse(Report);
        Assert.Equal(
            [
                new RecipientStatus("Gone.User@Client.test", "failed", "5.1.1"),
                new RecipientStatus("slow@client.test", "delayed", "4.4.1"),
                new RecipientStatus("ok@client.test", "delivered", "2.0.0"),
            ],
            report.Recipients);
        Assert.Equal([true, false, false], report.Recipients.Select(r => r.IsPermanentFailure));
    }

    [Fact]
    public void Permanently_failed_gives_the_lowercased_addresses() =>
        Assert.Equal(["gone.user@client.test"], DeliveryStatus.PermanentlyFailed(DeliveryStatus.Parse(Report)));

    [Fact]
    public void Crlf_line_ends_give_the_same_answer_as_lf() =>
        Assert.Equal(
            DeliveryStatus.Parse(Report).Recipients,
            DeliveryStatus.Parse(Report.ReplaceLineEndings("\r\n")).Recipients);

    [Fact]
    public void Folded_fields_names_in_any_case_comments_and_angle_brackets_are_read()
    {
        const string body = "reporting-mta: dns;\r\n mx.example.test\r\n\r\n"
            + "FINAL-RECIPIENT: rfc822;\r\n\t<Bob@Client.test>\r\n"
            + "ACTION: Failed (bad mailbox)\r\n"
            + "STATUS: 5.2.2 (mailbox full)\r\n";
        var recipient = Assert.Single(DeliveryStatus.Parse(body).Recipients);
        Assert.Equal(new RecipientStatus("Bob@Client.test", "failed", "5.2.2"), recipient);
        Assert.True(recipient.IsPermanentFailure);
    }

    [Fact]
    public void A_report_without_the_per_message_block_still_reads_its_recipient()
    {
        var recipient = Assert.Single(DeliveryStatus.Parse("Final-Recipient: rfc822; a@b.test\nAction: failed\nStatus: 5.0.0\n").Recipients);
        Assert.Equal("a@b.test", recipient.Address);
        Assert.True(recipient.IsPermanentFailure);
    }

    [Fact]
    public void Missing_action_or_status_read_as_empty_and_are_not_permanent_failures()
    {
        var report = DeliveryStatus.Parse("Final-Recipient: rfc822; a@b.test\nStatus: 5.1.1\n\nFinal-Recipient: rfc822; c@d.test\nAction: failed\n");
        Assert.Equal([new RecipientStatus("a@b.test", "", "5.1.1"), new RecipientStatus("c@d.test", "failed", "")], report.Recipients);
        Assert.Empty(DeliveryStatus.PermanentlyFailed(report));
    }

    [Theory]
    [InlineData("failed", "4.2.2", false)]
    [InlineData("delayed", "5.1.1", false)]
    [InlineData("FAILED", "5.7.1", true)]
    [InlineData("failed", "50.1.1", false)]
    public void Only_failed_with_a_5_class_code_is_permanent(string action, string status, bool permanent) =>
        Assert.Equal(permanent, new RecipientStatus("a@b.test", action, status).IsPermanentFailure);

    [Fact]
    public void Original_recipient_stands_in_when_final_recipient_is_missing_and_other_types_are_skipped()
    {
        var report = DeliveryStatus.Parse(
            "Original-Recipient: rfc822; orig@b.test\nAction: failed\nStatus: 5.1.1\n\n"
            + "Final-Recipient: x400; c=US;a=;p=Example;o=Sales\nAction: failed\nStatus: 5.1.1\n\n"
            + "Final-Recipient: plain@b.test\nAction: failed\nStatus: 5.1.1\n");
        Assert.Equal(["orig@b.test", "plain@b.test"], report.Recipients.Select(r => r.Address));
    }

    [Fact]
    public void The_same_address_twice_is_listed_once_among_the_failed()
    {
        var report = DeliveryStatus.Parse(
            "Final-Recipient: rfc822; A@b.test\nAction: failed\nStatus: 5.1.1\n\nFinal-Recipient: rfc822; a@B.TEST\nAction: failed\nStatus: 5.1.1\n");
        Assert.Equal(["a@b.test"], DeliveryStatus.PermanentlyFailed(report));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("\r\n\r\n\n")]
    [InlineData("this is not a delivery status at all")]
    [InlineData(":::\n: : :\n  folded continuation of nothing\n;;;")]
    [InlineData("Final-Recipient:\nAction: failed\nStatus: 5.1.1")]
    [InlineData("Final-Recipient: rfc822;\nAction: failed")]
    [InlineData("Final-Recipient: rfc822; (only a comment)")]
    [InlineData("Final-Recipient: rfc822; <\nAction: (((")]
    public void Garbage_gives_an_empty_report_without_throwing(string? body)
    {
        var report = DeliveryStatus.Parse(body);
        Assert.Empty(report.Recipients);
        Assert.Empty(DeliveryStatus.PermanentlyFailed(report));
    }

    [Fact]
    public void Huge_junk_is_read_without_throwing()
    {
        var junk = string.Concat(Enumerable.Repeat("Final-Recipient: rfc822; x\u0000@y.test\nAction: failed\nStatus: 5.1.1\n \t(\n\n\r", 20_000));
        var report = DeliveryStatus.Parse(junk);
        Assert.Equal(20_000, report.Recipients.Count);
    }

    private static KeyValuePair<string, string>[] Headers(params (string Name, string Value)[] headers) =>
        [.. headers.Select(h => KeyValuePair.Create(h.Name, h.Value))];

    [Fact]
    public void Exim_names_permanent_failures_in_x_failed_recipients()
    {
        var report = DeliveryStatus.FromPlainText(Headers(("X-Failed-Recipients", "Gone@Example.fr, <other@example.fr>")), "Mailer-Daemon@mx.example.fr", "This is a permanent error.");
        Assert.Equal(["gone@example.fr", "other@example.fr"], DeliveryStatus.PermanentlyFailed(report!));
    }

    [Fact]
    public void Qmail_names_each_failed_recipient_on_a_line_of_its_own()
    {
        const string body = "Hi. This is the qmail-send program at mx.example.fr.\nThis is a permanent error; I've given up.\n\n<gone@example.fr>:\nSorry, no mailbox here by that name.\n\n<b@example.fr>:\nUser unknown.\n";
        Assert.Equal(["gone@example.fr", "b@example.fr"], DeliveryStatus.PermanentlyFailed(DeliveryStatus.FromPlainText([], "MAILER-DAEMON@mx.example.fr", body)!));
    }

    [Fact]
    public void Sendmail_lists_permanent_failures_under_its_heading_each_with_its_reason()
    {
        const string body = "The original message was received at Thu, 26 Nov 2026 10:00:00 +0100\n\n"
            + "   ----- The following addresses had permanent fatal errors -----\n<Gone@Example.fr>\n    (reason: 550 5.1.1 User unknown)\n"
            + "<b@example.fr>\n    (reason: 550 5.2.1 Mailbox disabled)\n\n   ----- Transcript of session follows -----\n<c@example.fr>... Deferred\n";

        var report = DeliveryStatus.FromPlainText([], "MAILER-DAEMON@mx.example.fr", body);

        // The transcript's own address lines come after the blank line: they are not failed recipients.
        Assert.Equal(["gone@example.fr", "b@example.fr"], DeliveryStatus.PermanentlyFailed(report!));
    }

    [Fact]
    public void Other_notices_from_mailer_daemon_are_reports_that_name_nobody_and_other_mail_is_no_report()
    {
        var delayed = DeliveryStatus.FromPlainText([], "mailer-daemon@mx.example.fr", "Message delayed: the server will keep trying for 4 days.\n<gone@example.fr>:");
        Assert.Empty(delayed!.Recipients);
        Assert.Null(DeliveryStatus.FromPlainText([], "marie@example.fr", "This is a permanent error.\n<gone@example.fr>:"));
        Assert.Null(DeliveryStatus.FromPlainText([], "postmaster@example.fr", "Hello, I run the mail here."));
    }

    [Theory]
    [InlineData("554: delivery error: dd This user doesn't have a example.fr account [-5] - mta1.yahoo.com", true)]
    [InlineData("host mx.example.fr[192.0.2.1] said: 550 5.1.1 User unknown (in reply to RCPT TO command)", true)]
    [InlineData("421: temporary failure, try again later", false)]
    [InlineData("451 4.7.1 Greylisted", false)]
    public void A_bounce_in_prose_fails_an_address_only_on_a_permanent_code_beside_it(string answer, bool permanent)
    {
        var body = $"Sorry, we were unable to deliver your message to the following address.\n\n<Gone@example.fr>:\n{answer}\n\n--- Below this line is a copy of the message.\n";

        var report = DeliveryStatus.FromPlainText([], "MAILER-DAEMON@yahoo.com", body);

        string[] failed = permanent ? ["gone@example.fr"] : [];
        Assert.Equal(failed, DeliveryStatus.PermanentlyFailed(report!));
    }

    [Fact]
    public void Domino_names_the_failed_recipient_under_was_not_delivered_to()
    {
        const string body = "Your message\n\n  Subject:      Re: Facture\n\nwas not delivered to:\n\n  camille.dubois@contoso-fr.example\n\nbecause:\n\n  User camille.dubois not listed in Domino Directory\n";

        var failure = DeliveryStatus.FromPlainText(Headers(("Subject", "DELIVERY FAILURE: User camille.dubois not listed")), "Postmaster@contoso-fr.example", body);
        var delay = DeliveryStatus.FromPlainText(Headers(("Subject", "DELIVERY DELAYED: Re: Facture")), "Postmaster@contoso-fr.example", body);

        Assert.Equal(["camille.dubois@contoso-fr.example"], DeliveryStatus.PermanentlyFailed(failure!));
        Assert.Null(delay);
    }
}
