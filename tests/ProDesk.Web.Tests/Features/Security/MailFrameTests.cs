using ProDesk.Web.Channels.Email;
using ProDesk.Web.Security;

namespace ProDesk.Web.Tests.Features.Security;

/// <summary>Whether the agent is offered "Show images": every way a sanitized mail can hold back a picture from the web.</summary>
public sealed class MailFrameTests
{
    [Theory]
    [InlineData("<img src=\"https://tracker.example/p.png\">")]
    [InlineData("<div style=\"background-image:url(https://tracker.example/css.png)\">x</div>")]
    [InlineData("<div style='background-image:url(\"https://tracker.example/css.png\")'>x</div>")]
    [InlineData("<table background=\"https://tracker.example/bg.png\"><tr><td>x</td></tr></table>")]
    public void A_picture_from_the_web_is_noticed_after_sanitizing(string html)
    {
        var sanitized = MailHtmlSanitizer.Instance.Sanitize(html);
        Assert.True(MailFrame.HasRemoteImages(sanitized), sanitized);
    }

    [Theory]
    [InlineData("<p>Hello</p>")]
    [InlineData("<img src=\"data:image/png;base64,iVBORw0KGgo=\">")]
    [InlineData("<a href=\"https://example.org/\">a link is no picture</a>")]
    public void Mail_without_one_offers_nothing(string html) =>
        Assert.False(MailFrame.HasRemoteImages(MailHtmlSanitizer.Instance.Sanitize(html)));
}
