using ProDesk.Domain.Channels.Email;

namespace ProDesk.Domain.Tests.Channels.Email;

public sealed class MailCopiesTests
{
    private static readonly string?[] Desk = ["support@acme.test"];

    [Fact]
    public void A_mail_to_the_desk_and_colleagues_keeps_the_colleagues_in_the_order_written()
    {
        var copies = MailCopies.Of(["support@acme.test", "Lena@Example.com", "jo@example.com"], "marie@example.com", Desk);

        Assert.Equal(["lena@example.com", "jo@example.com"], copies);
    }

    [Fact]
    public void The_sender_and_repeats_are_no_copies()
    {
        var copies = MailCopies.Of(["support@acme.test", "marie@example.com", "lena@example.com", "LENA@example.com"], "Marie@Example.com", Desk);

        Assert.Equal(["lena@example.com"], copies);
    }

    [Theory]
    [InlineData("support+billing@acme.test")]
    [InlineData("SUPPORT@ACME.TEST")]
    [InlineData("helpdesk@acme.test")]
    public void The_desks_own_addresses_are_never_copied(string ours)
    {
        var copies = MailCopies.Of([ours, "lena@example.com"], "marie@example.com", [.. Desk, "helpdesk@acme.test"]);

        Assert.Equal(["lena@example.com"], copies);
    }

    [Fact]
    public void A_reply_address_carrying_an_item_token_is_never_copied()
    {
        var token = ReplyToken.Create(Guid.NewGuid(), Guid.NewGuid(), new byte[ReplyToken.MinKeyLength]);
        var replyAddress = ReplyToken.ReplyAddress("help@other.test", token);

        Assert.Equal(["lena@example.com"], MailCopies.Of([replyAddress, "lena@example.com"], "marie@example.com", Desk));
    }

    [Theory]
    [InlineData("noreply@shop.example")]
    [InlineData("mailer-daemon@example.com")]
    [InlineData("localonly")]
    [InlineData("\"john q\"@example.com")]
    [InlineData("someone@localhost")]
    public void Machines_and_addresses_no_relay_delivers_to_are_not_copied(string address) =>
        Assert.Equal(["lena@example.com"], MailCopies.Of(["support@acme.test", address, "lena@example.com"], "marie@example.com", Desk));

    [Fact]
    public void A_mail_that_names_none_of_the_desks_addresses_came_through_an_alias_and_keeps_no_copies()
    {
        // info@client.example forwards to the desk: it cannot be told from a colleague, so nobody is copied.
        string[] addressed = ["info@client.example", "lena@example.com"];

        Assert.Empty(MailCopies.Of(addressed, "marie@example.com", Desk));
        Assert.True(MailCopies.NamesOthers(addressed, "marie@example.com", Desk));
        Assert.Equal(["lena@example.com"], MailCopies.Of(addressed, "marie@example.com", [.. Desk, "info@client.example"]));
        Assert.False(MailCopies.NamesOthers(["support@acme.test"], "marie@example.com", Desk));
    }

    [Fact]
    public void A_mail_naming_a_crowd_keeps_the_first_twenty()
    {
        var crowd = Enumerable.Range(1, 60).Select(i => $"person{i}@example.com").Prepend("support@acme.test").ToList();

        var copies = MailCopies.Of(crowd, "marie@example.com", Desk);

        Assert.Equal(crowd.Skip(1).Take(MailCopies.Max), copies);
    }

    [Fact]
    public void A_reply_goes_to_whoever_wrote_last_and_whom_they_named_but_not_to_the_customer_again()
    {
        // Lena, on copy, wrote back naming Marie (the customer) and Jo.
        var copies = MailCopies.ForReply("lena@example.com", "marie@example.com jo@example.com", "marie@example.com", Desk);

        Assert.Equal(["lena@example.com", "jo@example.com"], copies);
    }

    [Fact]
    public void Copies_are_stored_space_separated_and_read_back()
    {
        var stored = MailCopies.Join(["lena@example.com", "jo@example.com"]);

        Assert.Equal("lena@example.com jo@example.com", stored);
        Assert.Equal(["lena@example.com", "jo@example.com"], MailCopies.Split(stored));
        Assert.Null(MailCopies.Join([]));
        Assert.Empty(MailCopies.Split(null));
    }
}
