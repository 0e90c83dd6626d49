using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ProDesk.Web.Channels.WebForm;

/// <summary>
/// The small pages a browser sees after posting the form without a usable return URL: a thank-you
/// or the fields to correct. Self-contained (no scripts, styles or assets, so any CSP allows it), every text HTML-encoded.
/// </summary>
public static class WebFormPages
{
    public static ContentHttpResult Page(int status, string title, string lead, IEnumerable<string> lines)
    {
        var encode = HtmlEncoder.Default;
        var html = new StringBuilder()
            .Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">")
            .Append("<meta name=\"robots\" content=\"noindex\"><title>").Append(encode.Encode(title)).Append("</title></head>")
            .Append("<body><main>")
            .Append("<h1>").Append(encode.Encode(title)).Append("</h1><p>").Append(encode.Encode(lead)).Append("</p>");
        var items = lines.ToList();
        if (items.Count > 0)
        {
            html.Append("<ul>");
            foreach (var line in items)
            {
                html.Append("<li>").Append(encode.Encode(line)).Append("</li>");
            }

            html.Append("</ul>");
        }

        html.Append("</main></body></html>");
        return TypedResults.Content(html.ToString(), "text/html; charset=utf-8", Encoding.UTF8, status);
    }
}
