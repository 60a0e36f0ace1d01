/*
 * unit-replyclass.c - whose statement is a negative reply (doc/protocol.md
 * 3b), on real replies from MTA sources, providers' published error pages
 * and public bounces.  Texts are stored as smtpreply joins them: the part
 * after the code, lines joined by one space, the enhanced code repeated on
 * continuation lines dropped.  IP addresses and mailboxes are replaced by
 * documentation values (192.0.2.1, bob@example.org, verify@us.example).
 * Links only the pure core.
 */
#include <stdio.h>
#include <string.h>

#include "replyclass.h"
#include "tap.h"

enum source {
	POSTFIX, EXIM, SENDMAIL, QMAIL, MICROSOFT, GMAIL, YAHOO, MIMECAST,
	PROOFPOINT, BARRACUDA, IRONPORT, OTHER, SOURCE__COUNT
};

static const char *const source_names[SOURCE__COUNT] = {
	"postfix", "exim", "sendmail", "qmail", "microsoft", "gmail", "yahoo",
	"mimecast", "proofpoint", "barracuda", "ironport", "other",
};

#define M  STAGE_MAIL           /* reply to MAIL FROM:<> */
#define MS STAGE_MAIL_SENDER    /* reply to MAIL FROM:<verify@us.example> */
#define R  STAGE_RCPT
#define A  ABOUT_ADDRESS
#define N  ABOUT_NULLSENDER
#define U  ABOUT_US
#define Q  ABOUT_QUOTA

static const struct row {
	enum source src;
	enum smtp_stage stage;
	int code;
	const char *text;
	enum reply_about want;
	const char *where;              /* where the text comes from */
} rows[] = {
	/* ---- Postfix: src/smtpd/smtpd_check.c, smtpd.c, postscreen ---- */
	{ POSTFIX, R, 550, "5.1.1 <bob@example.org>: Recipient address rejected: "
	    "User unknown in local recipient table", A,
	    "smtpd_check.c check_rcpt_maps (local_recipient_maps)" },
	{ POSTFIX, R, 550, "5.1.1 <bob@example.org>: Recipient address rejected: "
	    "User unknown in virtual mailbox table", A,
	    "smtpd_check.c check_rcpt_maps; public bounce (pastebin hush.com)" },
	{ POSTFIX, R, 550, "5.1.1 <bob@example.org>: Recipient address rejected: "
	    "User unknown in virtual alias table", A,
	    "smtpd_check.c check_rcpt_maps (virtual_alias_maps)" },
	{ POSTFIX, R, 550, "5.1.1 <bob@example.org>: Recipient address rejected: "
	    "User unknown in relay recipient table", A,
	    "smtpd_check.c (relay_recipient_maps); mailtrap.io 550 5.1.1 list" },
	{ POSTFIX, R, 554, "5.7.1 <bob@example.org>: Relay access denied", U,
	    "smtpd_check.c reject_unauth_destination" },
	{ POSTFIX, R, 554, "5.7.1 Service unavailable; Client host [192.0.2.1] "
	    "blocked using zen.spamhaus.org; "
	    "https://www.spamhaus.org/query/ip/192.0.2.1", U,
	    "smtpd_check.c reject_rbl_client (doc/protocol.md 4b)" },
	{ POSTFIX, M, 554, "5.7.1 Service unavailable; Client host [192.0.2.1] "
	    "blocked using zen.spamhaus.org", U,
	    "smtpd_check.c reject_rbl_client, smtpd_delay_reject=no at MAIL" },
	{ POSTFIX, R, 550, "5.7.1 Client host rejected: cannot find your reverse "
	    "hostname, [192.0.2.1]", U,
	    "smtpd_check.c reject_unknown_reverse_client_hostname" },
	{ POSTFIX, R, 550, "5.7.1 Client host rejected: cannot find your "
	    "hostname, [192.0.2.1]", U,
	    "smtpd_check.c reject_unknown_client_hostname (test log)" },
	{ POSTFIX, R, 504, "5.5.2 <localhost>: Helo command rejected: need "
	    "fully-qualified hostname", U,
	    "smtpd_check.c reject_non_fqdn_helo_hostname" },
	{ POSTFIX, R, 554, "5.7.1 <unknown[192.0.2.1]>: Client host rejected: "
	    "Access denied", U, "smtpd_check.c check_client_access REJECT" },
	{ POSTFIX, R, 554, "5.7.1 <bob@example.org>: Recipient address rejected: "
	    "Access denied", A,
	    "smtpd_check.c check_recipient_access REJECT: keyed on the address" },
	{ POSTFIX, M, 554, "5.7.1 <>: Sender address rejected: Access denied", N,
	    "smtpd_check.c check_sender_access <> REJECT, immediate" },
	{ POSTFIX, R, 554, "5.7.1 <>: Sender address rejected: Access denied", N,
	    "same, smtpd_delay_reject=yes (the default): given at RCPT" },
	{ POSTFIX, M, 501, "5.1.7 Bad sender address syntax", N,
	    "smtpd.c mail_cmd: <> refused as bad syntax" },
	{ POSTFIX, M, 530, "5.7.0 Must issue a STARTTLS command first", U,
	    "smtpd.c (smtpd_tls_security_level=encrypt)" },
	{ POSTFIX, MS, 553, "5.7.1 <verify@us.example>: Sender address rejected: "
	    "not logged in", U,
	    "smtpd_check.c reject_sender_login_mismatch" },
	{ POSTFIX, R, 550, "5.1.8 <verify@us.example>: Sender address rejected: "
	    "Domain not found", U,
	    "smtpd_check.c reject_unknown_sender_domain, delayed to RCPT" },
	{ POSTFIX, R, 550, "5.1.2 <bob@nonexistent.example>: Recipient address "
	    "rejected: Domain not found", A,
	    "smtpd_check.c reject_unknown_recipient_domain" },
	{ POSTFIX, R, 550, "5.1.1 <bob@example.org>: Recipient address rejected: "
	    "undeliverable address: host mx.example.org[192.0.2.2] said: 550 "
	    "5.1.1 <bob@example.org>: Recipient address rejected: User unknown in "
	    "local recipient table (in reply to RCPT TO command)", A,
	    "smtpd_check.c reject_unverified_recipient" },
	{ POSTFIX, R, 550, "5.7.1 Service unavailable; client [192.0.2.1] "
	    "blocked using zen.spamhaus.org", U, "postscreen_dnsbl.c" },
	{ POSTFIX, R, 550, "5.7.23 <bob@example.org>: Recipient address rejected: "
	    "Message rejected due to: SPF fail - not authorized. Please see "
	    "http://www.openspf.net/Why?s=helo;id=us.example;ip=192.0.2.1;"
	    "r=bob@example.org", U,
	    "postfix-policyd-spf-python behind check_policy_service" },
	{ POSTFIX, R, 552, "5.2.2 <bob@example.org>: Recipient address rejected: "
	    "Mailbox is full", Q,
	    "Dovecot quota-status quota_status_overquota via check_policy_service" },

	/* ---- Exim: src/src/route.c, default configure, cPanel ---- */
	{ EXIM, R, 550, "Unrouteable address", A, "route.c:1826 (Sisimai notes)" },
	{ EXIM, R, 550, "relay not permitted", U,
	    "src/configure.default acl_check_rcpt" },
	{ EXIM, R, 550, "unknown user", A,
	    "configure.default (4.6x) acl_check_rcpt, local_domains" },
	{ EXIM, R, 550, "Verification failed for <verify@us.example> Unrouteable "
	    "address Sender verify failed", U,
	    "acl.c verify = sender: three lines joined" },
	{ EXIM, R, 550, "Callout verification failed: 550 5.1.1 <bob@example.org>: "
	    "Recipient address rejected: User unknown in local recipient table", A,
	    "verify.c recipient callout, two lines joined" },
	{ EXIM, R, 550, "Administrative prohibition", U,
	    "acl.c default deny message: a policy, not the address" },
	{ EXIM, R, 550, "rejected because 192.0.2.1 is in a black list at "
	    "zen.spamhaus.org", U, "spec: dnslists example message" },
	{ EXIM, R, 550, "No Such User Here", A, "cPanel Exim acl (public bounces)" },

	/* ---- sendmail: cf/m4/proto.m4, cf/feature/dnsbl.m4, enhdnsbl.m4 ---- */
	{ SENDMAIL, R, 550, "5.1.1 <bob@example.org>... User unknown", A,
	    "srvrsmtp.c / parseaddr: no such local user" },
	{ SENDMAIL, R, 550, "5.7.1 <bob@example.org>... Relaying denied", U,
	    "proto.m4 check_rcpt" },
	{ SENDMAIL, R, 550, "5.7.1 <bob@example.org>... Relaying denied. IP name "
	    "lookup failed [192.0.2.1]", U,
	    "proto.m4 check_rcpt client_resolve FAIL" },
	{ SENDMAIL, MS, 553, "5.1.8 <verify@us.example>... Domain of sender "
	    "address verify@us.example does not exist", U,
	    "proto.m4 check_mail <PERM>" },
	{ SENDMAIL, R, 553, "5.1.8 <verify@us.example>... Domain of sender "
	    "address verify@us.example does not exist", U,
	    "same with FEATURE(delay_checks): at RCPT, still our sender" },
	{ SENDMAIL, R, 550, "5.7.1 Rejected: 192.0.2.1 listed at "
	    "zen.spamhaus.org", U, "feature/dnsbl.m4 default message" },
	{ SENDMAIL, R, 554, "5.7.1 Rejected 192.0.2.1 found in dnsbl.sorbs.net",
	    U, "feature/enhdnsbl.m4 default message" },
	{ SENDMAIL, R, 550, "5.7.1 <bob@example.org>... Access denied", U,
	    "access db REJECT: To: or Connect: cannot be told apart" },

	/* ---- qmail: qmail-smtpd.c, chkuser, qmail-ldap, rblsmtpd ---- */
	{ QMAIL, R, 553, "sorry, that domain isn't in my list of allowed "
	    "rcpthosts (#5.7.1)", U, "qmail-smtpd.c err_nogateway" },
	{ QMAIL, MS, 553, "sorry, your envelope sender is in my badmailfrom list "
	    "(#5.7.1)", U, "qmail-smtpd.c err_bmf" },
	{ QMAIL, R, 511, "sorry, no mailbox here by that name (#5.1.1 - chkuser)",
	    A, "chkuser_settings.h CHKUSER_NORCPT_STRING" },
	{ QMAIL, R, 550, "Sorry, no mailbox here by that name. (#5.1.1)", A,
	    "qmail-ldap patch (Sisimai Lhost::Qmail)" },
	{ QMAIL, R, 522, "sorry, recipient mailbox is full (#5.2.2 - chkuser)", Q,
	    "chkuser_settings.h CHKUSER_MBXFULL_STRING" },
	{ QMAIL, R, 571, "sorry, you are violating our security policies (#5.1.1 "
	    "- chkuser)", U,
	    "chkuser_settings.h CHKUSER_MAXWRONGRCPT_STRING: #5.1.1 is no proof" },
	{ QMAIL, R, 511, "sorry, can't find a valid MX for sender domain (#5.1.1 "
	    "- chkuser)", U, "chkuser_settings.h CHKUSER_SENDERMX_STRING" },
	{ QMAIL, R, 553, "https://www.spamhaus.org/query/ip/192.0.2.1", U,
	    "rblsmtpd.c -b: 553 and the DNSBL's TXT record" },

	/* ---- Microsoft 365 / Outlook.com: learn.microsoft.com NDR pages ---- */
	{ MICROSOFT, R, 550, "5.7.606 Access denied, banned sending IP "
	    "[192.0.2.1]. To request removal from this list please visit "
	    "https://sender.office.com/ and follow the directions. (AS16012609)",
	    U, "smtpfieldmanual.com exchangeonline; NDR 5.7.606-649" },
	{ MICROSOFT, R, 550, "5.4.1 Recipient address rejected: Access denied. "
	    "AS(201806281) [BN8NAM11FT066.eop-nam11.prod.protection.outlook.com]",
	    A, "NDR 5.4.1: directory-based edge blocking" },
	{ MICROSOFT, R, 550, "5.7.1 Service unavailable, Client host [192.0.2.1] "
	    "blocked using Spamhaus. To request removal from this list see "
	    "https://www.spamhaus.org/query/ip/192.0.2.1 (AS16012611)", U,
	    "smtpfieldmanual.com exchangeonline" },
	{ MICROSOFT, M, 550, "5.7.1 Service unavailable, Helo domain is listed in "
	    "Spamhaus. (S8001)", U, "smtp.codes/exchangeonline" },
	{ MICROSOFT, R, 550, "5.7.708 Service unavailable. Access denied, traffic "
	    "not accepted from this IP. For more information please go to "
	    "https://go.microsoft.com/fwlink/?LinkID=526655 AS(7171)", U,
	    "NDR 5.7.700-5.7.750" },
	{ MICROSOFT, R, 550, "5.5.0 Requested action not taken: mailbox "
	    "unavailable", A, "Outlook.com, public bounces (pastebin)" },
	{ MICROSOFT, R, 550, "5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient "
	    "bob@example.org not found by SMTP address lookup", A, "NDR 5.1.10" },
	{ MICROSOFT, R, 550, "5.7.1 Unfortunately, messages from [192.0.2.1] "
	    "weren't sent. Please contact your Internet service provider since "
	    "part of their network is on our block list (S3150).", U,
	    "Sisimai Rhost::Microsoft, undocumented Outlook.com" },
	{ MICROSOFT, R, 550, "5.7.509 Access denied, sending domain us.example "
	    "does not pass DMARC verification and has a DMARC policy of reject.",
	    U, "NDR 5.7.509" },
	{ MICROSOFT, R, 550, "5.7.505 Access denied, banned recipient", A,
	    "NDR 5.7.505: the recipient address is not valid" },
	{ MICROSOFT, R, 550, "5.7.133 RESOLVER.RST.SenderNotAuthenticatedForGroup; "
	    "authentication required; Delivery restriction check failed as "
	    "sender not authenticated", U, "NDR 5.7.133" },
	{ MICROSOFT, R, 550, "5.7.1 Delivery not authorized, message refused", U,
	    "Exchange Server NDR 5.7.1 (Sisimai Rhost::Microsoft)" },
	{ MICROSOFT, R, 552, "5.2.2 mailbox full", Q, "Exchange NDR 5.2.2" },

	/* ---- Gmail: support.google.com/a/answer/3726730, public bounces ---- */
	{ GMAIL, R, 550, "5.1.1 The email account that you tried to reach does "
	    "not exist. Please try double-checking the recipient's email address "
	    "for typos or unnecessary spaces. Learn more at "
	    "https://support.google.com/mail/?p=NoSuchUser "
	    "d72si22370812qhc.8 - gsmtp", A, "public bounces (pastebin)" },
	{ GMAIL, R, 550, "5.2.1 The email account that you tried to reach is "
	    "disabled. Learn more at https://support.google.com/mail/?p=DisabledUser "
	    "x8si14244020wif.39 - gsmtp", A, "Gmail SMTP errors page" },
	{ GMAIL, R, 552, "5.2.2 The email account that you tried to reach is over "
	    "quota. Please direct the recipient to "
	    "https://support.google.com/mail/?p=OverQuotaPerm - gsmtp", Q,
	    "Gmail SMTP errors page" },
	{ GMAIL, R, 550, "5.7.1 [192.0.2.1] Our system has detected an unusual "
	    "rate of unsolicited mail originating from your IP address. To protect "
	    "our users from spam, mail sent from your IP address has been blocked. "
	    "- gsmtp", U, "Gmail SMTP errors page; Sisimai Rhost::Google" },
	{ GMAIL, R, 550, "5.7.26 Unauthenticated email from us.example is not "
	    "accepted due to domain's DMARC policy. Please contact the "
	    "administrator of us.example domain. - gsmtp", U,
	    "Gmail SMTP errors page: about the sender domain, us" },
	{ GMAIL, R, 550, "5.7.26 This mail has been blocked because the sender is "
	    "unauthenticated. Gmail requires all senders to authenticate with "
	    "either SPF or DKIM. - gsmtp", U, "Gmail SMTP errors page" },
	{ GMAIL, M, 530, "5.7.0 Must issue a STARTTLS command first. - gsmtp", U,
	    "Gmail SMTP errors page" },
	{ GMAIL, R, 550, "5.7.1 This message violates example.org email policy. "
	    "- gcdp <sessionid> - gsmtp", U,
	    "Gmail SMTP errors page: admin's custom rule" },

	/* ---- Yahoo / AOL: senders.yahooinc.com, help.yahoo.com ---- */
	{ YAHOO, R, 554, "delivery error: dd This user doesn't have a yahoo.com "
	    "account (bob@yahoo.com) [0] - mta1000.mail.ne1.yahoo.com", A,
	    "help.yahoo.com abuse-57" },
	{ YAHOO, R, 554, "delivery error: dd Sorry, your message to bob@yahoo.com "
	    "cannot be delivered. This account is over quota.", Q,
	    "help.yahoo.com abuse-57" },
	{ YAHOO, M, 553, "5.7.1 [BL21] Connections will not be accepted from "
	    "192.0.2.1, because the ip is in Spamhaus's list; see "
	    "http://postmaster.yahoo.com/550-bl23.html", U,
	    "Sisimai Rhost::YahooInc" },
	{ YAHOO, R, 554, "5.7.9 Message not accepted for policy reasons. See "
	    "https://postmaster.yahooinc.com/error-codes", U,
	    "senders.yahooinc.com error codes" },
	{ YAHOO, M, 553, "5.7.2 [TSS09] All messages from 192.0.2.1 will be "
	    "permanently deferred; Retrying will NOT succeed. See "
	    "https://postmaster.yahooinc.com/error-codes", U,
	    "senders.yahooinc.com error codes" },
	{ YAHOO, R, 554, "delivery error: dd bob@yahoo.com is no longer valid. "
	    "[-20] - mta1000.mail.ne1.yahoo.com", A, "Sisimai Rhost::YahooInc" },
	{ YAHOO, R, 554, "30 Sorry, your message to bob@aol.com cannot be "
	    "delivered. This mailbox is disabled (554.30)", A,
	    "Sisimai Rhost::YahooInc (AOL)" },
	{ YAHOO, M, 553, "Mail from 192.0.2.1 not allowed", U,
	    "help.yahoo.com SLN5066" },
	{ YAHOO, R, 550, "relaying denied for <bob@yahoo.com>", U,
	    "Sisimai Rhost::YahooInc" },

	/* ---- Mimecast: community.mimecast.com SMTP error codes ---- */
	{ MIMECAST, R, 550, "Invalid Recipient - "
	    "https://community.mimecast.com/docs/DOC-1369#550", A,
	    "Mimecast SMTP error codes" },
	{ MIMECAST, R, 550, "Rejected by header based Anti-Spoofing policy: "
	    "bob@example.org - https://community.mimecast.com/docs/DOC-1369#550",
	    U, "Mimecast SMTP error codes; suped.com" },
	{ MIMECAST, R, 550, "Administrative prohibition envelope blocked - "
	    "https://community.mimecast.com/docs/DOC-1369#550", U,
	    "Mimecast SMTP error codes (Blocked Senders policy)" },
	{ MIMECAST, R, 550, "Local CT IP Reputation - (reject) - "
	    "https://community.mimecast.com/docs/DOC-1369#550", U,
	    "Mimecast SMTP error codes" },
	{ MIMECAST, M, 550, "SPF Sender Invalid - envelope rejected - "
	    "https://community.mimecast.com/docs/DOC-1369#550", U,
	    "Mimecast SMTP error codes: SPF is about us, not <>" },
	{ MIMECAST, R, 553, "This route requires encryption (TLS) - "
	    "https://community.mimecast.com/docs/DOC-1369#553", U,
	    "Mimecast SMTP error codes" },

	/* ---- Proofpoint ---- */
	{ PROOFPOINT, R, 554, "5.7.0 Blocked - see "
	    "https://ipcheck.proofpoint.com/?ip=192.0.2.1", U,
	    "proofpoint.com ip-blocked-faq; suped.com" },
	{ PROOFPOINT, R, 550, "5.1.1 User Unknown", A,
	    "pphosted.com bounces (sendmail-based PPS)" },
	{ PROOFPOINT, M, 554, "Blocked - see "
	    "https://ipcheck.proofpoint.com/?ip=192.0.2.1", U,
	    "same, refused at MAIL FROM:<>" },

	/* ---- Barracuda ---- */
	{ BARRACUDA, R, 554, "Service unavailable; Client host [192.0.2.1] "
	    "blocked using Barracuda Reputation; "
	    "http://www.barracudanetworks.com/reputation/?r=1&ip=192.0.2.1", U,
	    "tig.csail.mit.edu, luxsci.com bounces" },
	{ BARRACUDA, R, 550, "permanent failure for one or more recipients "
	    "(bob@example.org:blocked)", U,
	    "Barracuda ESS (suped.com): a policy block, not the address" },
	{ BARRACUDA, R, 550, "No such user (bob@example.org)", A,
	    "Barracuda Email Security Gateway recipient verification" },

	/* ---- Cisco IronPort (AsyncOS) ---- */
	{ IRONPORT, M, 554, "Your access to this mail system has been rejected "
	    "due to the sending MTA's poor reputation. If you believe that this "
	    "failure is in error, please contact the intended recipient via "
	    "alternate means.", U, "SenderBase HAT reject (danrichard.com)" },
	{ IRONPORT, R, 550, "#5.1.0 Address rejected bob@example.org", A,
	    "LDAP acceptance query: nothing about us, RCPT default" },
	{ IRONPORT, MS, 553, "#5.1.8 Domain of sender address <verify@us.example> "
	    "does not exist", U, "sender domain verification" },
	{ IRONPORT, R, 550, "#5.7.1 Your access to submit messages to this e-mail "
	    "system has been rejected.", U, "HAT reject (mxroute changelog)" },

	/* ---- other MTAs and the session tests ---- */
	{ OTHER, R, 550, "5.7.1 No such user!", A,
	    "Yandex (public pastebin): wording wins over 5.7.1" },
	{ OTHER, R, 550, "Mailbox not found. "
	    "http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000728",
	    A, "Tencent QQ (public pastebin)" },
	{ OTHER, R, 550, "bob@juno.com is not a valid user", A,
	    "Juno/United Online (public pastebin)" },
	{ OTHER, R, 550, "5.1.1 <bob@bigpond.com> recipient rejected. IB603c", A,
	    "Telstra BigPond (public pastebin): code decides" },
	{ OTHER, R, 554, "Transaction failed", A,
	    "RFC 5321 554 with no wording: stays rejected at RCPT" },
	{ OTHER, M, 550, "5.7.1 we do not accept bounces", N,
	    "t/unit-session.c; null-sender refusals as in doc/protocol.md 4b" },
	{ OTHER, M, 550, "Requested action not taken", U,
	    "RFC 5321 550 at MAIL FROM:<> that names no sender: us" },
	{ OTHER, MS, 550, "5.1.1 User unknown", U,
	    "any 5xx to MAIL FROM:<x@y> is about us" },
	{ OTHER, R, 550, "5.7.1 Recipient Prohibited (3)", U,
	    "PSCS VPOP3 wiki: SMTP rule on the recipient; 5.7.x and policy" },
};

static void
test_rows(unsigned count[ABOUT__COUNT][SOURCE__COUNT])
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];

		is_str(reply_about_name(reply_classify(r->stage, r->code,
		    r->text)), reply_about_name(r->want), "%s: %d %.50s (%s)",
		    source_names[r->src], r->code, r->text, r->where);
		count[r->want][r->src]++;
	}
}

/* The team lead's numbers: replies per class and per source. */
static void
print_counts(unsigned count[ABOUT__COUNT][SOURCE__COUNT])
{
	unsigned total = 0, n;
	int a, s;

	printf("# %zu real replies\n", sizeof(rows) / sizeof(rows[0]));
	for (a = 0; a < ABOUT__COUNT; a++) {
		for (n = 0, s = 0; s < SOURCE__COUNT; s++)
			n += count[a][s];
		printf("#   class %-10s %3u\n", reply_about_name(a), n);
		total += n;
	}
	for (s = 0; s < SOURCE__COUNT; s++) {
		printf("#   source %-10s", source_names[s]);
		for (n = 0, a = 0; a < ABOUT__COUNT; a++) {
			printf(" %s=%u", reply_about_name(a), count[a][s]);
			n += count[a][s];
		}
		printf(" total=%u\n", n);
	}
	ok(total >= 60, "at least 60 real replies (%u)", total);
}

static const struct {
	const char *text;
	int ret, cls, subj, detail;
} enhanced[] = {
	{ "5.1.1 User unknown", 1, 5, 1, 1 },
	{ "5.1.10 RESOLVER", 1, 5, 1, 10 },
	{ "5.7.606 Access denied", 1, 5, 7, 606 },
	{ "4.5.3 Too many", 1, 4, 5, 3 },
	{ "2.1.5 Ok", 1, 2, 1, 5 },
	{ "5.1.1", 1, 5, 1, 1 },
	{ "5.1.1: x", 1, 5, 1, 1 },
	{ "5.999.999 x", 1, 5, 999, 999 },
	{ "5.1000.1 x", 0, 0, 0, 0 },
	{ "5.1.1000 x", 0, 0, 0, 0 },
	{ "5.1.1.2 x", 0, 0, 0, 0 },
	{ "3.1.1 x", 0, 0, 0, 0 },
	{ "6.1.1 x", 0, 0, 0, 0 },
	{ "5..1 x", 0, 0, 0, 0 },
	{ "5.1. x", 0, 0, 0, 0 },
	{ "5.1", 0, 0, 0, 0 },
	{ " 5.1.1 x", 0, 0, 0, 0 },
	{ "#5.1.1 x", 0, 0, 0, 0 },
	{ "User unknown (#5.1.1)", 0, 0, 0, 0 },
	{ "", 0, 0, 0, 0 },
};

static void
test_enhanced(void)
{
	size_t i;

	for (i = 0; i < sizeof(enhanced) / sizeof(enhanced[0]); i++) {
		int c = 0, s = 0, d = 0;
		int got = reply_enhanced(enhanced[i].text, &c, &s, &d);

		ok(got == enhanced[i].ret && (!got || (c == enhanced[i].cls &&
		    s == enhanced[i].subj && d == enhanced[i].detail)),
		    "reply_enhanced \"%s\" -> %d %d.%d.%d", enhanced[i].text, got,
		    c, s, d);
	}
	ok(!reply_enhanced(NULL, NULL, NULL, NULL), "reply_enhanced NULL");
}

static const struct {
	int code;
	const char *text;
	int want;
} too_many[] = {
	{ 452, "4.5.3 Too many recipients", 1 },
	{ 452, "4.5.3 Your message has too many recipients. For more information "
	    "regarding Google's sending limits - gsmtp", 1 },
	{ 452, "4.5.3 Domain policy size per transaction exceeded, please try "
	    "this recipient in a separate transaction", 1 },
	{ 452, "Too many recipients", 1 },      /* Mimecast */
	{ 452, "", 1 },
	{ 452, NULL, 1 },
	{ 451, "4.5.3 too many recipients", 1 },
	{ 552, "5.5.3 Too many recipients", 1 },
	{ 550, "Too many recipients", 1 },
	{ 571, "sorry, reached maximum number of recipients for one session "
	    "(#5.7.1 - chkuser)", 1 },
	{ 452, "4.2.2 The email account that you tried to reach is over quota.", 0 },
	{ 452, "4.3.1 Insufficient system resources", 0 },
	{ 452, "Insufficient system storage", 0 },
	{ 450, "4.2.1 The user you are trying to contact is receiving mail too "
	    "quickly", 0 },
	{ 550, "5.1.1 User unknown", 0 },
	{ 250, "2.1.5 Ok", 0 },
	{ 354, "too many recipients", 0 },
};

static void
test_too_many(void)
{
	size_t i;

	for (i = 0; i < sizeof(too_many) / sizeof(too_many[0]); i++)
		is_int(reply_too_many_rcpts(too_many[i].code, too_many[i].text),
		    too_many[i].want, "too many rcpts: %d \"%s\"",
		    too_many[i].code, too_many[i].text ? too_many[i].text :
		    "(null)");
}

/* The stage rules of doc/protocol.md 4b on synthetic texts. */
static void
test_stages(void)
{
	is_int(reply_classify(STAGE_MAIL, 550, "5.1.1 User unknown"), ABOUT_US,
	    "address wording at MAIL FROM:<> is about us");
	is_int(reply_classify(STAGE_MAIL, 550, "5.2.2 Mailbox full"), ABOUT_US,
	    "quota at MAIL FROM:<> is about us");
	is_int(reply_classify(STAGE_MAIL, 553, "5.1.8 x"), ABOUT_NULLSENDER,
	    "5.1.8 at MAIL FROM:<>: nullsender");
	is_int(reply_classify(STAGE_RCPT, 553, "5.1.8 x"), ABOUT_US,
	    "5.1.8 at RCPT: our sender, us");
	is_int(reply_classify(STAGE_MAIL_SENDER, 550, "null sender refused"),
	    ABOUT_US, "null-sender wording at MAIL FROM:<x@y>: us");
	is_int(reply_classify(STAGE_RCPT, 550, NULL), ABOUT_ADDRESS,
	    "RCPT, NULL text: address");
	is_int(reply_classify(STAGE_RCPT, 550, "5.7.1 x"), ABOUT_US,
	    "bare 5.7.x at RCPT: us");
	is_int(reply_classify(STAGE_RCPT, 530, "x"), ABOUT_US,
	    "530 without wording: us");
	is_int(reply_classify(STAGE_RCPT, 552, "x"), ABOUT_QUOTA,
	    "552 without wording: quota");
	is_int(reply_classify(STAGE_PROBE, 550, "5.1.1 x"), ABOUT_ADDRESS,
	    "probe reads like RCPT");
	is_int(reply_classify(STAGE_RCPT, 550, "verbal abuse"), ABOUT_US,
	    "abuse is policy");
	is_int(reply_classify(STAGE_RCPT, 550, "5.1.1 Xrbl user"), ABOUT_ADDRESS,
	    "rbl only at a word start");
	is_str(reply_about_name(ABOUT__COUNT), "?", "name out of range");
}

int
main(void)
{
	static unsigned count[ABOUT__COUNT][SOURCE__COUNT];

	plan_no_plan();
	test_rows(count);
	print_counts(count);
	test_enhanced();
	test_too_many();
	test_stages();
	return done_testing();
}
