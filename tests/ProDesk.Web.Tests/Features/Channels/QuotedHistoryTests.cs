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

    // Localized Outlook header blocks and Gmail, Thunderbird and Notes attributions, as probe round 18 sent them.
    [Theory]
    [InlineData("Hola, sigue sin funcionar.\n\nDe: Acme Plomberie SAS <support@acme.test>\nEnviado el: domingo, 29 de noviembre de 2026 10:22\nPara: Lucía Gómez <lucia@empresa.example>\nAsunto: RE: Impresora\n\nGracias por su mensaje.", "Hola, sigue sin funcionar.", "De: ")]
    [InlineData("Olá, continua sem funcionar.\n\nDe: Acme Plomberie SAS <support@acme.test>\nEnviada em: domingo, 29 de novembro de 2026 10:22\nPara: João Silva <joao@empresa.example>\nAssunto: RE: Impressora\n\nObrigado pela sua mensagem.", "Olá, continua sem funcionar.", "De: ")]
    [InlineData("Olá, continua sem funcionar.\n\nDe: Acme Plomberie SAS <support@acme.test>\nEnviado: domingo, 29 de novembro de 2026 10:22\nAssunto: RE: Impressora\n\nObrigado.", "Olá, continua sem funcionar.", "De: ")]
    [InlineData("まだ直っていません。\n\n差出人: Acme Plomberie SAS <support@acme.test>\n送信日時: 2026年11月29日 10:22\n宛先: 山田 太郎 <taro@sample.example>\n件名: RE: プリンター\n\nお問い合わせありがとうございます。", "まだ直っていません。", "差出人: ")]
    [InlineData("您好，还是不行。\n\n发件人: Acme Plomberie SAS <support@acme.test>\n发送时间: 2026年11月29日 10:22\n收件人: 王小明 <wang@qiye.example>\n主题: 回复: 打印机\n\n感谢您的来信。", "您好，还是不行。", "发件人: ")]
    [InlineData("您好，还是不行。\n\n发件人：Acme Plomberie SAS <support@acme.test>\n主题：回复: 打印机\n\n感谢您的来信。", "您好，还是不行。", "发件人：")]
    [InlineData("Dzień dobry, nadal nie działa.\n\nOd: Acme Plomberie SAS <support@acme.test>\nWysłano: niedziela, 29 listopada 2026 10:22\nDo: Piotr Nowak <piotr@firma.example>\nTemat: RE: Drukarka\n\nDziękujemy.", "Dzień dobry, nadal nie działa.", "Od: ")]
    [InlineData("Hej, det fungerar fortfarande inte.\n\nFrån: Acme Plomberie SAS <support@acme.test>\nSkickat: den 29 november 2026 10:22\nTill: Erik Svensson <erik@foretag.example>\nÄmne: SV: Skrivare\n\nTack för ditt meddelande.", "Hej, det fungerar fortfarande inte.", "Från: ")]
    [InlineData("Принтер снова не печатает.\n\nОт: Acme Support <support@acme.test>\nОтправлено: 28 ноября 2026 г. 15:12\nКому: Сергей Смирнов <s.smirnov@zavod.example>\nТема: RE: Принтер\n\nПопробуйте перезагрузить принтер.", "Принтер снова не печатает.", "От: ")]
    [InlineData("Olá, ainda não recebi.\n\nEm dom., 29 de nov. de 2026 às 10:22, Acme Plomberie SAS <support@acme.test> escreveu:\n\n> Obrigado pela sua mensagem.", "Olá, ainda não recebi.", "Em dom.")]
    [InlineData("Здравствуйте, ещё не получил.\n\nвс, 29 нояб. 2026 г. в 10:22, Acme Plomberie SAS <support@acme.test>:\n\n> Спасибо за ваше сообщение.", "Здравствуйте, ещё не получил.", "вс, 29")]
    [InlineData("Счёт так и не пришёл.\n\n28.11.2026 15:12, Acme Support пишет:\n> Здравствуйте, счёт отправлен.", "Счёт так и не пришёл.", "28.11.2026")]
    [InlineData("まだ届いていません。\n\n2026年11月29日(日) 10:22 Acme Plomberie SAS <support@acme.test>:\n\n> お問い合わせありがとうございます。", "まだ届いていません。", "2026年")]
    [InlineData("发票还是没有收到。\n\n张经理 <support@acme.test> 于2026年11月28日周六 10:15写道：\n\n> 您好，我们已经重新发送了发票。", "发票还是没有收到。", "张经理")]
    [InlineData("发票还是没有收到。\n\n在 2026/11/28 10:15, 张经理 写道:\n> 您好。", "发票还是没有收到。", "在 2026")]
    [InlineData("Hallo, immer noch defekt.\n\n-----\"Acme Plomberie SAS\" <support@acme.test> wrote: -----\nTo: Hans Moser/IT/Behoerde\nFrom: \"Acme Plomberie SAS\" <support@acme.test>\nDate: 29.11.2026 10:22\nSubject: RE: Drucker\n\nDanke fuer Ihre Nachricht.", "Hallo, immer noch defekt.", "-----\"Acme")]
    public void A_localized_reply_over_a_quoted_thread_is_split_where_the_thread_begins(string body, string fresh, string marker)
    {
        var (own, quoted) = QuotedHistory.Split(body);

        Assert.Equal(fresh, own);
        Assert.NotNull(quoted);
        Assert.StartsWith(marker, quoted, StringComparison.Ordinal);
        Assert.EndsWith(quoted, body, StringComparison.Ordinal);
    }

    // English that merely holds the words the localized markers are made of stays whole.
    [Theory]
    [InlineData("Tomorrow at 10:30, please call Bob <bob@example.org>:\n- the valve\n- the tap")]
    [InlineData("The box says Från: Stockholm and Skickat: 28 November, and it never came.\nOd: and Wysłano: are on the Polish label.\nSubject: the label")]
    [InlineData("Our old system wrote: -----\nnothing else, then stopped.")]
    [InlineData("The translator wrote 写道：\nand nothing else.")]
    public void English_text_with_words_of_other_languages_markers_is_left_whole(string body)
    {
        Assert.Equal((body, null), QuotedHistory.Split(body));
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

    // Probe round 20: the customer's own words after something that reads like a marker were folded away as "Quoted text".
    [Theory]
    [InlineData("Bonjour,\n\nLe 29/11/2026 à 16:09, Acme Plomberie SAS a écrit :\n> Le chauffe-eau fonctionne-t-il ?\nOui, il fonctionne depuis ce matin.\n> Quelle est l'adresse ?\nOui : 4521B, 2e étage.\n\nZoë")]
    [InlineData("Guten Tag,\n\nam Montag schrieb mir Ihr Techniker:\n> Ich komme am Dienstag um 10 Uhr.\n\nAber niemand ist gekommen. Bitte schicken Sie HEUTE jemanden.")]
    [InlineData("Hello,\n\nOn Monday your engineer wrote:\n> I will come on Tuesday at 10.\n\nNobody came. Water has been running into the basement for two days. Please send someone TODAY.")]
    [InlineData("Hello,\n\nShipment details:\nFrom: Singapore warehouse (Tuas)\nTo: Jakarta DC\nDate: 27 Nov 2026\nAWB: 618-12345675\n\nIt has NOT arrived. Please call me today on +65 9123 4567.")]
    [InlineData("Hello,\n\nFrom: Singapore warehouse (Tuas)\nTo: Jakarta DC\nDate: 27 Nov 2026\nAWB: 618-12345675\n\nIt has NOT arrived. Please call me today on +65 9123 4567.")]
    public void Unquoted_words_after_an_attribution_or_a_from_line_are_never_folded(string body)
    {
        Assert.Equal((body, null), QuotedHistory.Split(body));
    }

    [Theory]
    [InlineData("thunderbird inline", "<p>Bonjour,</p><div>Le 29/11/2026 à 16:09, Acme Plomberie SAS a écrit :<br></div><blockquote type=\"cite\">Le chauffe-eau fonctionne-t-il ?</blockquote>Oui, il fonctionne depuis ce matin.<blockquote type=\"cite\">Quelle est l'adresse ?</blockquote>Oui : 4521B, 2e étage.<br>Zoë")]
    [InlineData("sentence", "<div dir=\"ltr\"><div>Hello,</div><div><br></div><div>On Monday your engineer wrote:</div><blockquote>I will come on Tuesday at 10.</blockquote><div>Nobody came. Please send someone TODAY.</div></div>")]
    [InlineData("shipment", "<div>Hello,</div><div><br></div><div>Shipment details:</div><div>From: Singapore warehouse (Tuas)<br>Sent: by sea<br>To: Jakarta DC<br>AWB: 618-12345675</div><div><br></div><div>It has NOT arrived. Please call me today.</div>")]
    public void Unquoted_words_after_an_attribution_or_a_from_line_in_html_are_never_folded(string client, string html)
    {
        Assert.True(html == QuotedHistory.FoldHtml(html), client);
    }

    // What each client's reply looks like after the sanitizer (classes and ids gone, the structure kept).
    [Theory]
    [InlineData("gmail", "<div dir=\"ltr\">Still broken.</div><br><div><div dir=\"ltr\">On Tue, 3 Jun 2025 at 09:15, Acme Support &lt;support@acme.test&gt; wrote:<br></div><blockquote style=\"margin:0px 0px 0px 0.8ex\"><div>Did the plumber come?</div></blockquote></div>")]
    [InlineData("outlook", "<div><p>Still broken.</p><p>&nbsp;</p><div><div style=\"border:none\"><p><b>From:</b> Acme Support &lt;support@acme.test&gt;<br><b>Sent:</b> Tuesday, June 3, 2025 09:15<br><b>To:</b> Carol<br><b>Subject:</b> Re: leak</p></div></div><p>Did the plumber come?</p></div>")]
    // Outlook on the web ends its From/Sent block with an empty div (probe round 17, b01): it was taken for a container.
    [InlineData("outlook web", "<div>Still broken.</div><hr style=\"display:inline-block;width:98%\"><div dir=\"ltr\"><font face=\"Calibri, sans-serif\"><b>From:</b> Acme Support &lt;support@acme.test&gt;<br><b>Sent:</b> Tuesday, June 3, 2025 09:15<br><b>To:</b> Carol<br><b>Subject:</b> Re: leak</font><div>&nbsp;</div></div><div><div>Did the plumber come?</div></div>")]
    [InlineData("apple", "<div>Still broken.</div><div><br><blockquote><div>On 3 Jun 2025, at 09:15, Acme Support &lt;support@acme.test&gt; wrote:</div><br><div>Did the plumber come?</div></blockquote></div>")]
    [InlineData("separator", "<p>Still broken.</p><p>-----Original Message-----<br>From: Acme</p><p>Did the plumber come?</p>")]
    [InlineData("outlook es", "<div><p>Still broken.</p><p>&nbsp;</p><div><div style=\"border:none\"><p><b>De:</b> Acme Support &lt;support@acme.test&gt; <br><b>Enviado el:</b> martes, 3 de junio de 2025 9:15<br><b>Para:</b> Carol<br><b>Asunto:</b> RE: fuga</p></div></div><p>Did the plumber come?</p></div>")]
    [InlineData("outlook ja", "<div><p>Still broken.</p><div><p><b>差出人:</b> Acme Support &lt;support@acme.test&gt;<br><b>送信日時:</b> 2025年6月3日 9:15<br><b>件名:</b> RE: 水漏れ</p></div><p>Did the plumber come?</p></div>")]
    [InlineData("gmail zh", "<div dir=\"ltr\">Still broken.</div><br><div><div dir=\"ltr\">张经理 &lt;support@acme.test&gt; 于2025年6月3日周二 09:15写道：<br></div><blockquote>Did the plumber come?</blockquote></div>")]
    [InlineData("notes", "<p>Still broken.</p><p>-----\"Acme Support\" &lt;support@acme.test&gt; wrote: -----</p><p>To: Carol<br>Date: 03.06.2025 09:15</p><p>Did the plumber come?</p>")]
    public void A_reply_in_html_has_its_quoted_thread_folded_and_kept(string client, string html)
    {
        var folded = new AngleSharp.Html.Parser.HtmlParser().ParseDocument(QuotedHistory.FoldHtml(html)).Body!;

        var details = folded.QuerySelector("details");
        Assert.True(details is not null, client);
        Assert.Equal("Quoted text", details.QuerySelector("summary")!.TextContent);
        Assert.Contains("Did the plumber come?", details.TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain("Still broken.", details.TextContent, StringComparison.Ordinal);
        // Nothing of the history (an attribution line, a separator) is left above the fold.
        Assert.Equal("Still broken.", folded.TextContent.Replace(details.TextContent, "", StringComparison.Ordinal).Trim());
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
