#!/usr/bin/perl
# 29-verdicts.t - a `fail` must be proven (doc/protocol.md 4b, 3c, 3d).
#
# Replies that speak about us, not the address, never become `fail`; a
# host that blocks us is remembered for every domain on it; domain-wide
# records come only from the most preferred MX and are kept per path; the
# probe's "no" is remembered; 452 goes to a new session on the same host;
# a reply that does not belong to its command ends the session `defer`.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Savd qw(:all);

my $zone = <<'EOF';
blocks.test        MX   10 mx.blocks.test
other.test         MX   10 mx.blocks.test
mx.blocks.test     A    127.0.0.20
plain.test         MX   10 mx.plain.test
mx.plain.test      A    127.0.0.21
tls.test           MX   10 mx.tls.test
mx.tls.test        A    127.0.0.22
nonull.test        MX   10 mx.nonull.test
mx.nonull.test     A    127.0.0.23
grey.test          MX   10 mx1.grey.test
grey.test          MX   20 mx2.grey.test
mx1.grey.test      A    127.0.0.24
mx2.grey.test      A    127.0.0.25
few.test           MX   10 mx.few.test
mx.few.test        A    127.0.0.26
double.test        MX   10 mx.double.test
mx.double.test     A    127.0.0.27
atonce.test        MX   10 mx.atonce.test
mx.atonce.test     A    127.0.0.28
noquit.test        MX   10 mx.noquit.test
noquit2.test       MX   10 mx.noquit.test
mx.noquit.test     A    127.0.0.29
relay.test         MX   10 mx.relay.test
mx.relay.test      A    127.0.0.30
fronted.test       MX   10 mx2.grey.test
drip.test          MX   10 mx.drip.test
mx.drip.test       A    127.0.0.31
EOF

my @ips = (20 .. 31);
my $dir = tempdir();
my $dns = start_dns($zone, dir => $dir);
my $smtp = start_smtp(dir => $dir, tag => 1,
    users => [qw(alice bob carol dave erin frank gina hank)],
    listen => [map { "127.0.0.$_" } @ips],
    profile => {
	'127.0.0.22' => 'mailtls',
	'127.0.0.23' => 'rejectnull',
	'127.0.0.24' => 'mail451',
	'127.0.0.25' => 'catchall',
	'127.0.0.26' => 'maxrcpt=1',
	'127.0.0.27' => 'doublegreet',
	'127.0.0.28' => 'allatonce',
	'127.0.0.29' => 'noquit',
	'127.0.0.31' => 'drip',
    });
my $d = start_savd(dir => $dir, dns => $dns, smtp => $smtp, conf => {
	allow_networks => join(', ', map { "127.0.0.$_/32" } @ips),
	command_timeout => '2s',
	connect_timeout => '2s',
	dns_timeout => '1s',
	answer_timeout => '10s',
	host_concurrency => 1,
	max_rcpt_per_session => 3,
	routes => 'routed.test=[127.0.0.21]:' . $smtp->port .
	    ', fronted.test=[127.0.0.21]:' . $smtp->port,
});

sub expect {
	my ($name, $req, %want) = @_;
	return fields_ok($name, $d->query($req, timeout => 12), %want);
}

sub rcpts_to {
	my ($ip) = @_;
	return scalar grep { /^RCPT TO:/i } $smtp->commands($ip);
}

# ------------------------------------------------ statements about us

expect('554 blocklist at RCPT: unknown blocked, never fail',
    'SENDER <spamhaus-1@blocks.test>',
    result => 'unknown', reason => 'blocked', code => 554,
    source => 'callout', text => qr/zen\.spamhaus\.org/);
my $before = $smtp->sessions_to('127.0.0.20');
expect('the block holds for another domain on that host, from the record',
    'SENDER <alice@other.test>',
    result => 'unknown', reason => 'blocked', code => 554,
    text => qr/spamhaus/);
is($smtp->sessions_to('127.0.0.20'), $before,
    'no new connection to a host that blocks us');
has_fields($d->query('HEALTH'),
    'result=ok status=warning blocked_hosts=1', 'HEALTH warns: blocked_hosts');
like($d->query('HEALTH'), qr/ blocked_names=mx\.blocks\.test\[127\.0\.0\.20\]/,
    'HEALTH names the blocking host');
like($d->query('HEALTH'), qr/reasons=\S*blocked_hosts/,
    'HEALTH gives blocked_hosts as a reason');
is($d->stats->{blocks}, 1, 'STATS counts the block once');
is($d->stats->{blocked_hosts}, 1, 'STATS: one host blocks us');

expect('Relay access denied: unknown blocked',
    'SENDER <relaydenied-1@relay.test>',
    result => 'unknown', reason => 'blocked', code => 554);
expect('530 STARTTLS required at MAIL: unknown blocked, not fail nullsender',
    'SENDER <alice@tls.test>',
    result => 'unknown', reason => 'blocked', code => 530,
    text => qr/STARTTLS/);
expect('a refusal of <> is still fail nullsender',
    'SENDER <alice@nonull.test>',
    result => 'fail', reason => 'nullsender', code => 550);
expect('mailbox full: unknown mailboxfull', 'SENDER <fullbox-1@plain.test>',
    result => 'unknown', reason => 'mailboxfull', code => 552);
expect('a 4xx about our hostname stays defer', 'SENDER <ptrless-1@plain.test>',
    result => 'defer', reason => 'tempfail', code => 450);

# ------------------------------------------------ records (3c)

expect('greylisting primary, catch-all backup: catchall for this address',
    'SENDER <alice@grey.test>',
    result => 'unknown', reason => 'catchall',
    mx => 'mx2.grey.test[127.0.0.25]');
my $greys = $smtp->sessions_to('127.0.0.24');
expect('... but the domain is not a catch-all: the next address asks again',
    'SENDER <bob@grey.test>',
    result => 'unknown', reason => 'catchall', source => 'callout');
cmp_ok($smtp->sessions_to('127.0.0.24'), '>', $greys,
    'the primary MX is asked again for the next address');

expect('first accepted address at plain.test', 'SENDER <alice@plain.test>',
    result => 'ok', reason => 'accepted');
is(rcpts_to('127.0.0.21'), 4, 'the probe went out once (2 earlier RCPTs)');
expect('second address at plain.test', 'SENDER <bob@plain.test>',
    result => 'ok', reason => 'accepted');
is(rcpts_to('127.0.0.21'), 5, '"not a catch-all" is remembered: no probe');

expect('a forged sender at a routed domain, public MX: nxdomain',
    'SENDER <x@routed.test>',
    result => 'fail', reason => 'nxdomain', source => 'dns');
expect('the call-forward through routes is not answered by that record',
    'RECIPIENT <bob@routed.test>',
    result => 'ok', reason => 'accepted', source => 'callout',
    mx => qr/127\.0\.0\.21/);

expect('a catch-all host in front of a routed domain: catchall for senders',
    'SENDER <x@fronted.test>', result => 'unknown', reason => 'catchall');
expect('... says nothing about the call-forward through routes',
    'RECIPIENT <unknown9@fronted.test>', result => 'fail',
    reason => 'rejected', source => 'callout', mx => qr/127\.0\.0\.21/);

# ------------------------------------------------ 452 (3c)

{
	my @r = $d->concurrent(15, map { "RECIPIENT <$_\@few.test>" }
	    qw(alice bob unknown7));
	fields_ok('452: alice still gets her own answer', $r[0],
	    result => 'ok', reason => 'accepted');
	fields_ok('452: bob still gets his own answer', $r[1],
	    result => 'ok', reason => 'accepted');
	fields_ok('452: unknown7 still gets its own answer', $r[2],
	    result => 'fail', reason => 'rejected');
	cmp_ok($smtp->sessions_to('127.0.0.26'), '>=', 3,
	    '452: the others went to new sessions on the same host');
}

# ------------------------------------------------ replies and commands (3d)

expect('a doubled greeting: defer tempfail', 'SENDER <alice@double.test>',
    result => 'defer', reason => 'tempfail',
    text => qr/protocol violation/);
expect('every reply at once: defer tempfail, not catchall or ok',
    'SENDER <alice@atonce.test>',
    result => 'defer', reason => 'tempfail',
    text => qr/protocol violation/);
expect('... and nothing of it was cached beyond tempfail_ttl',
    'SENDER <bob@atonce.test>', result => 'defer', source => 'callout');

expect('command_timeout bounds a whole reply, however it drips in',
    'SENDER <alice@drip.test>', result => 'defer', reason => 'timeout');

# ------------------------------------------------ QUIT (3c)

{
	expect('a host that never answers QUIT', 'SENDER <alice@noquit.test>',
	    result => 'ok', reason => 'accepted');
	expect('the next question to it is not held by the first QUIT',
	    'SENDER <bob@noquit2.test>', result => 'ok', reason => 'accepted');
	my $s = $smtp->sessions;
	my @q = grep { $_->{local} eq '127.0.0.29' } @$s;
	is(scalar @q, 2, 'two sessions to the host that ignores QUIT');
	like($d->log_text, qr/addr=<bob\@noquit2\.test>.* ms=\d{1,3}(?!\d)/,
	    'answered in under a second although host_concurrency=1');
}

done_testing();
