using ProDesk.Web.Channels.Email;

namespace ProDesk.Web.Tests.Features.Channels;

/// <summary>The earlier thread a customer's reply quotes is told from what the customer wrote this time.</summary>
public sealed class QuotedHistoryTests
{
    [Theory]
    [InlineData("Top-posted answer: the leak is worse now.\n\n-----Original Message-----\nFrom: Acme <support@acme.test>\nSent: Saturday, November 28, 2026 9:28 AM\nSubject: Re: leak\n\nThank you for your message.")]
    [InlineData("Still broken.\n\nOn Tue, 3 Jun 2025 at 09:15, Acme Support <support@acme.test> wrote:\n> Did the plumber come?\n> Regards")]
    [InlineData("Still broken.\n\nOn Tue, 3 Jun 2025 at 09:15, Acme Support <support@acme.test>\nwrote:\n> Did the plumber come?")]
    [InlineData("Immer noch kaputt.\n\nAm 03.06.2025 um 09:15 schrieb Acme Support <support@acme.test>:\n> Kam der Installateur?")]
    [InlineData("Toujours en panne.\n\nLe mar. 3 juin 2025 à 09:15, Acme Support <support@acme.test> a écrit :\n> Le plombier est-il venu ?")]
    [InlineData("Still broken.\n\n________________________________\nFrom: Acme Support <support@acme.test>\nSent: Tuesday, June 3, 2025 09:15\nTo: Carol\nSubject: Re: leak\n\nDid the plumber come?")]
    [InlineData("Still broken.\n\n> Did the plumber come?\n>\n> Regards, Acme\n")]
    public void A_reply_over_a_quoted_thread_is_split_where_the_thread_begins(string body)
    {
        var (fresh, quoted) = QuotedHistory.Split(body);

        Assert.True(fresh is "Top-posted answer: the leak is worse now." or "Still broken." or "Immer noch kaputt." or "Toujours en panne.", fresh);
        Assert.NotNull(quoted);
        Assert.EndsWith(quoted, body, StringComparison.Ordinal);
        Assert.Matches(@"^(-----|On |Am |Le |_{4,}|>)", quoted);
    }

    [Theory]
    [InlineData("The plumber came on Monday.\nHe said: the valve is old.")]
    [InlineData("> Did the plumber come?\nYes, on Monday.\n> And the bill?\nNot yet.")]
    [InlineData("On Monday the plumber came and wrote: nothing.")]
    [InlineData("-----Original Message-----\nFrom: Acme <support@acme.test>\nSent: today\n\nOnly the forwarded text, nothing of the sender's own.")]
    [InlineData("")]
    public void Text_without_a_quoted_tail_under_the_senders_own_words_is_left_whole(string body)
    {
        Assert.Equal((body, null), QuotedHistory.Split(body));
    }

    // What each client's reply looks like after the sanitizer (classes and ids gone, the structure kept).
    [Theory]
    [InlineData("gmail", "<div dir=\"ltr\">Still broken.</div><br><div><div dir=\"ltr\">On Tue, 3 Jun 2025 at 09:15, Acme Support &lt;support@acme.test&gt; wrote:<br></div><blockquote style=\"margin:0px 0px 0px 0.8ex\"><div>Did the plumber come?</div></blockquote></div>")]
    [InlineData("outlook", "<div><p>Still broken.</p><p>&nbsp;</p><div><div style=\"border:none\"><p><b>From:</b> Acme Support &lt;support@acme.test&gt;<br><b>Sent:</b> Tuesday, June 3, 2025 09:15<br><b>To:</b> Carol<br><b>Subject:</b> Re: leak</p></div></div><p>Did the plumber come?</p></div>")]
    // Outlook on the web ends its From/Sent block with an empty div (probe round 17, b01): it was taken for a container.
    [InlineData("outlook web", "<div>Still broken.</div><hr style=\"display:inline-block;width:98%\"><div dir=\"ltr\"><font face=\"Calibri, sans-serif\"><b>From:</b> Acme Support &lt;support@acme.test&gt;<br><b>Sent:</b> Tuesday, June 3, 2025 09:15<br><b>To:</b> Carol<br><b>Subject:</b> Re: leak</font><div>&nbsp;</div></div><div><div>Did the plumber come?</div></div>")]
    [InlineData("apple", "<div>Still broken.</div><div><br><blockquote><div>On 3 Jun 2025, at 09:15, Acme Support &lt;support@acme.test&gt; wrote:</div><br><div>Did the plumber come?</div></blockquote></div>")]
    [InlineData("separator", "<p>Still broken.</p><p>-----Original Message-----<br>From: Acme</p><p>Did the plumber come?</p>")]
    public void A_reply_in_html_has_its_quoted_thread_folded_and_kept(string client, string html)
    {
        var folded = new AngleSharp.Html.Parser.HtmlParser().ParseDocument(QuotedHistory.FoldHtml(html)).Body!;

        var details = folded.QuerySelector("details");
        Assert.True(details is not null, client);
        Assert.Equal("Quoted text", details.QuerySelector("summary")!.TextContent);
        Assert.Contains("Did the plumber come?", details.TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain("Still broken.", details.TextContent, StringComparison.Ordinal);
        Assert.Contains("Still broken.", folded.TextContent, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<p>Hello</p><blockquote>A quote I answer below</blockquote><p>My answer to it.</p>")]
    [InlineData("<blockquote>On Tue, 3 Jun 2025, Acme wrote:<br>Only a quote.</blockquote>")]
    [InlineData("<p>The plumber came on Monday.</p><p>He said: the valve is old.</p>")]
    [InlineData("")]
    public void Html_without_a_quoted_tail_under_the_senders_own_words_is_shown_as_it_was(string html)
    {
        Assert.Equal(html, QuotedHistory.FoldHtml(html));
    }
}
