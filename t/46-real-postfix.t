#!/usr/bin/perl
# 46-real-postfix.t - savd against a real Postfix 3.7 (Debian's .deb
# unpacked into a private prefix by tools/deps.sh, never installed: it
# conflicts with exim4) whose restrictions give their own replies: unknown
# users in the local, virtual and relay recipient tables, relay access
# denied, the client on a DNSBL (reject_rbl_client, served by the DNS
# fixture), the client in an access table, STARTTLS required
# (smtpd_tls_security_level = encrypt), the null sender refused (an access
# table, delayed to RCPT by smtpd_delay_reject as Postfix does by default)
# and smtpd_recipient_limit.  savd must classify each as doc/protocol.md 4b/3c
# say: statements about the address fail, statements about us are
# "unknown blocked" (never fail), the null sender refused is "fail
# nullsender" also when it arrives as the reply to RCPT, and RCPTs refused
# with 452 go to a fresh session so that every address still gets its
# real answer.
#
# One client address (savd's bind_address) and one savd (a fresh cache)
# per scenario.  Private mount and network namespaces (t/lib/RealMTA.pm):
# root only.  Every reply is also fetched with a plain SMTP dialogue from
# the same client address and shown with diag.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time);
use Savd qw(:all);
use RealMTA qw(:all);

my %IP = (pf => '127.0.0.40', pf_max => '127.0.0.41', pf_tls => '127.0.0.42',
    clean => '127.0.0.50', dnsbl => '127.0.0.51', access => '127.0.0.52',
    tls => '127.0.0.53', nonull => '127.0.0.54', rcptmax => '127.0.0.55',
    relay => '127.0.0.56');

my $why = cannot_run(postfix => 1);
plan skip_all => "real Postfix: $why" if $why;
BAIL_OUT(savd_bin() . ' is not built') unless -x savd_bin();
my $dir = tempdir();
$why = isolate(postfix => 1, dir => $dir, addrs => [sort values %IP]);
plan skip_all => "real Postfix: $why" if $why;

my $dns = start_dns(<<"EOF", dir => $dir, port => 53);
postfix.test        MX   10 mx.postfix.test
virt.test           MX   10 mx.postfix.test
relay.test          MX   10 mx.postfix.test
elsewhere.test      MX   10 mx.postfix.test
mx.postfix.test     A    $IP{pf}
pfmax.test          MX   10 mx2.postfix.test
mx2.postfix.test    A    $IP{pf_max}
pftls.test          MX   10 mx3.postfix.test
mx3.postfix.test    A    $IP{pf_tls}
51.0.0.127.bl.test  A    127.0.0.2
51.0.0.127.bl.test  TXT  Listed by bl.test: see http://bl.test/lookup?ip=127.0.0.51
EOF

my $t0 = time;
my $pf = start_postfix(dir => $dir, addrs => [$IP{pf}, $IP{pf_max},
    $IP{pf_tls}], hostname => 'mx.postfix.test',
    main => {
	mydestination => 'postfix.test, pfmax.test, pftls.test',
	local_recipient_maps => 'texthash:CONF/local_users',
	virtual_mailbox_domains => 'virt.test',
	virtual_mailbox_maps => 'texthash:CONF/virtual_mailboxes',
	relay_domains => 'relay.test',
	relay_recipient_maps => 'texthash:CONF/relay_recipients',
	smtpd_relay_restrictions => 'permit_mynetworks,'
	    . ' reject_unauth_destination',
	smtpd_client_restrictions => 'reject_rbl_client bl.test,'
	    . ' check_client_access texthash:CONF/client_access',
	smtpd_restriction_classes => 'refuse_null',
	refuse_null => 'check_sender_access texthash:CONF/null_sender',
	smtpd_sender_restrictions =>
	    'check_client_access texthash:CONF/null_clients',
    },
    services => {
	$IP{pf_max} => ['-o smtpd_recipient_limit=2'],
	$IP{pf_tls} => ['-o smtpd_tls_security_level=encrypt'],
    },
    files => {
	local_users => join('', map { "$_ ok\n" }
	    qw(alice bob carol dave postmaster)),
	virtual_mailboxes => "alice\@virt.test virt/alice/\n",
	relay_recipients => "alice\@relay.test ok\n",
	client_access => "$IP{access} REJECT\n",
	null_clients => "$IP{nonull} refuse_null\n",
	null_sender => "<> REJECT\n",
    });
diag(sprintf('Postfix greets: %s (started in %.2fs)', $pf->greeting,
    time - $t0));

my %SEEN;
sub real_replies {
	my ($client, $server, $from, @rcpts) = @_;
	my @c = ("MAIL FROM:<$from>", map { "RCPT TO:<$_>" } @rcpts);
	my @r = smtp_dialogue($server, 25, $client, 'EHLO savd.test', @c);
	splice(@r, 0, 2);       # greeting, EHLO
	for my $i (0 .. $#c) {
		diag("Postfix from $client: $c[$i] -> " . ($r[$i] // '(none)'));
	}
	return @r;
}


sub savd_from {
	my ($client, %conf) = @_;
	return start_savd(dir => tempdir(), dns => $dns, smtp_port => 25,
	    conf => {
		bind_address => $client,
		allow_networks => join(', ', map { "$IP{$_}/32" }
		    qw(pf pf_max pf_tls)),
		connect_timeout => '5s',
		command_timeout => '10s',
		answer_timeout => '20s',
		dns_timeout => '2s',
		tls => 'never',
		%conf,
	    });
}

sub expect {
	my ($d, $name, $req, %want) = @_;
	my $line = $d->query($req, timeout => 25);
	diag("savd: $req -> " . ($line // '(no answer)'));
	return fields_ok($name, $line, %want);
}

my $MX = "mx.postfix.test[$IP{pf}]";
my @r;

# ---------------------------------------------------------------- address

@r = real_replies($IP{clean}, $IP{pf}, '', 'alice@postfix.test',
    'nouser@postfix.test', 'nouser@virt.test', 'nouser@relay.test');
like($r[1], qr/^250 2\.1\.5 /, 'Postfix accepts alice@postfix.test');
is($r[2], '550 5.1.1 <nouser@postfix.test>: Recipient address rejected:'
    . ' User unknown in local recipient table',
    'Postfix: unknown in the local recipient table');
is($r[3], '550 5.1.1 <nouser@virt.test>: Recipient address rejected:'
    . ' User unknown in virtual mailbox table',
    'Postfix: unknown in the virtual mailbox table');
is($r[4], '550 5.1.1 <nouser@relay.test>: Recipient address rejected:'
    . ' User unknown in relay recipient table',
    'Postfix: unknown in the relay recipient table');
my $d = savd_from($IP{clean});
expect($d, 'an existing local mailbox: ok accepted',
    'RECIPIENT <alice@postfix.test>',
    result => 'ok', reason => 'accepted', code => 250, source => 'callout',
    mx => $MX);
expect($d, 'an existing virtual mailbox: ok accepted',
    'SENDER <alice@virt.test>', result => 'ok', reason => 'accepted');
expect($d, 'an existing relay recipient: ok accepted',
    'RECIPIENT <alice@relay.test>', result => 'ok', reason => 'accepted');
for my $t (['postfix.test', 'local recipient table'],
    ['virt.test', 'virtual mailbox table'],
    ['relay.test', 'relay recipient table']) {
	expect($d, "unknown in the $t->[1]: fail rejected",
	    "RECIPIENT <nouser\@$t->[0]>",
	    result => 'fail', reason => 'rejected', code => 550,
	    source => 'callout', mx => $MX,
	    text => "5.1.1 <nouser\@$t->[0]>: Recipient address rejected:"
		. " User unknown in $t->[1]");
}
$d->stop;

# ---------------------------------------------------------------- about us

@r = real_replies($IP{relay}, $IP{pf}, '', 'someone@elsewhere.test');
is($r[1], '554 5.7.1 <someone@elsewhere.test>: Relay access denied',
    'Postfix: relay access denied');
$d = savd_from($IP{relay});
expect($d, 'relay access denied: unknown blocked, never fail',
    'RECIPIENT <someone@elsewhere.test>',
    result => 'unknown', reason => 'blocked', code => 554,
    source => 'callout', mx => $MX,
    text => '5.7.1 <someone@elsewhere.test>: Relay access denied');
$d->stop;

@r = real_replies($IP{dnsbl}, $IP{pf}, '', 'alice@postfix.test');
like($r[1], qr/^554 5\.7\.1 Service unavailable; Client host \[127\.0\.0\.51\] blocked using bl\.test; Listed by bl\.test/,
    'Postfix: the client is on the DNSBL (given at RCPT)');
$d = savd_from($IP{dnsbl});
expect($d, 'client on a DNSBL: unknown blocked for an existing mailbox',
    'RECIPIENT <alice@postfix.test>',
    result => 'unknown', reason => 'blocked', code => 554,
    text => qr/^5\.7\.1 Service unavailable; Client host \[127\.0\.0\.51\] blocked using bl\.test/);
expect($d, 'client on a DNSBL: an unknown user is not failed either',
    'SENDER <nouser@postfix.test>', result => 'unknown', reason => 'blocked');
$d->stop;

@r = real_replies($IP{access}, $IP{pf}, '', 'alice@postfix.test');
is($r[1], "554 5.7.1 <unknown[$IP{access}]>: Client host rejected: Access"
    . ' denied', 'Postfix: the client in an access table');
$d = savd_from($IP{access});
expect($d, 'client in an access table: unknown blocked',
    'RECIPIENT <alice@postfix.test>',
    result => 'unknown', reason => 'blocked', code => 554,
    text => "5.7.1 <unknown[$IP{access}]>: Client host rejected: Access"
	. ' denied');
expect($d, 'client in an access table: an unknown user is not failed',
    'RECIPIENT <nouser@postfix.test>', result => 'unknown',
    reason => 'blocked');
$d->stop;

@r = real_replies($IP{tls}, $IP{pf_tls}, '', 'alice@pftls.test');
is($r[0], '530 5.7.0 Must issue a STARTTLS command first',
    'Postfix with smtpd_tls_security_level = encrypt: 530 to MAIL');
$d = savd_from($IP{tls});
expect($d, 'STARTTLS required (530 at MAIL): unknown blocked',
    'RECIPIENT <alice@pftls.test>',
    result => 'unknown', reason => 'blocked', code => 530,
    mx => "mx3.postfix.test[$IP{pf_tls}]",
    text => '5.7.0 Must issue a STARTTLS command first');
expect($d, 'STARTTLS required: an unknown user is not failed either',
    'SENDER <nouser@pftls.test>', result => 'unknown', reason => 'blocked');
$d->stop;
{
	$d = savd_from($IP{tls}, tls => 'may');
	expect($d, 'tls = may against the server that requires STARTTLS:'
	    . ' ok accepted over TLS', 'RECIPIENT <alice@pftls.test>',
	    result => 'ok', reason => 'accepted', tls => qr/^TLSv1\.[23]$/);
	expect($d, '... and an unknown user fails over TLS',
	    'RECIPIENT <nouser@pftls.test>', result => 'fail',
	    reason => 'rejected', text => qr/User unknown in local recipient/);
	$d->stop;
}

# ---------------------------------------------------------------- null sender

@r = real_replies($IP{nonull}, $IP{pf}, '', 'alice@postfix.test');
like($r[0], qr/^250 2\.1\.0 /, 'Postfix accepts MAIL FROM:<> (smtpd_delay_reject)');
is($r[1], '554 5.7.1 <>: Sender address rejected: Access denied',
    '... and refuses the null sender at RCPT');
$d = savd_from($IP{nonull});
expect($d, 'the null sender refused, delayed to RCPT: fail nullsender',
    'SENDER <alice@postfix.test>',
    result => 'fail', reason => 'nullsender', code => 554,
    source => 'callout', mx => $MX,
    text => '5.7.1 <>: Sender address rejected: Access denied');
expect($d, '... the same for RECIPIENT (not "rejected")',
    'RECIPIENT <bob@postfix.test>',
    result => 'fail', reason => 'nullsender');
$d->stop;

# ---------------------------------------------------------------- 452

@r = real_replies($IP{rcptmax}, $IP{pf_max}, '', 'alice@pfmax.test',
    'bob@pfmax.test', 'carol@pfmax.test');
is($r[3], '452 4.5.3 Error: too many recipients',
    'Postfix with smtpd_recipient_limit = 2: the third RCPT gets 452');
$d = savd_from($IP{rcptmax}, catchall_probe => 'no');
check_rcpt_limit(name => 'smtpd_recipient_limit', d => $d, srv => $pf,
    domain => 'pfmax.test', mx => "mx2.postfix.test[$IP{pf_max}]",
    connect_re => qr/connect from unknown\[\Q$IP{rcptmax}\E\]/);
$d->stop;

my $pid = $pf->pid;
ok($pid && kill(0, $pid), 'Postfix\'s master is still running');
$pf->stop;
ok(!kill(0, $pid), 'Postfix is stopped (by its master\'s PID)');
my $p = $pf->panic_log;
diag("Postfix complained:\n$p") if $p =~ /\S/;
done_testing();
