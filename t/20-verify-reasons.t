#!/usr/bin/perl
# 20-verify-reasons.t - every row of the doc/protocol.md reason table that the
# verification engine produces from DNS and SMTP, checked field by field
# (result, reason, code, source, mx, text) the way an Exim configuration
# reads them.  One scripted DNS server, one scripted SMTP server that
# behaves differently on each loopback address, one savd.
#
# allow_networks lists the fixture addresses one by one, so that 127.0.0.5
# (loopback, not allowed: bogusmx) and 127.0.0.1 (our own interface:
# skipped) stay filtered.  The fixture listens on both to prove that savd
# never connects there.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time);
use Savd qw(:all);

my $zone = <<'EOF';
ok.test            MX   10 mx.ok.test
mx.ok.test         A    127.0.0.2
nonull.test        MX   10 mx.nonull.test
mx.nonull.test     A    127.0.0.3
nullmx.test        MX   0 .
nomx.test          TXT  v=spf1 -all
noaddr.test        MX   10 mx.noaddr.test
mx.noaddr.test     TXT  no address here
bogus10.test       MX   10 mx.bogus10.test
mx.bogus10.test    A    10.0.0.1
bogus127.test      MX   10 mx.bogus127.test
mx.bogus127.test   A    127.0.0.5
bogusboth.test     MX   10 mx.bogus10.test
bogusboth.test     MX   20 mx.bogus127.test
dead.test          MX   10 mx.dead.test
mx.dead.test       A    127.0.0.9
servfail.test      SERVFAIL
dnstimeout.test    TIMEOUT
trunc.test         TRUNCATE
catchall.test      MX   10 mx.catchall.test
mx.catchall.test   A    127.0.0.7
greet554.test      MX   10 mx.greet554.test
mx.greet554.test   A    127.0.0.8
blockhelo.test     MX   10 mx.blockhelo.test
mx.blockhelo.test  A    127.0.0.10
loop.test          MX   10 mx.loop.test
mx.loop.test       A    127.0.0.11
self.test          MX   10 mx.self.test
mx.self.test       A    127.0.0.1
skipped.test       MX   10 mx.ok.test
EOF

my $dir = tempdir();
my $dns = start_dns($zone, dir => $dir);
my $smtp = start_smtp(dir => $dir, tag => 1, slow => 1.5,
    listen => [map { "127.0.0.$_" } 1, 2, 3, 5, 7, 8, 10, 11, 12],
    profile => {
	'127.0.0.3' => 'rejectnull',
	'127.0.0.7' => 'catchall',
	'127.0.0.8' => 'greet554',
	'127.0.0.10' => 'blockhelo',
	'127.0.0.11' => 'greetas=savd.test',
    });
my $d = start_savd(dir => $dir, dns => $dns, smtp => $smtp, conf => {
	allow_networks => join(', ', map { "127.0.0.$_/32" }
	    2, 3, 7, 8, 9, 10, 11),
	command_timeout => '2s',
	connect_timeout => '2s',
	dns_timeout => '1s',
	dns_retries => 0,
	answer_timeout => '10s',
	skip_domains => 'skipped.test',
	routes => 'refusedroute.test=mx.bogus127.test:' . $smtp->port
	    . ', literalroute.test=[127.0.0.12]:' . $smtp->port,
});

# Send $req and check the answer (Savd::fields_ok: equal, Regexp match,
# undef absent; text last and quoted).  Returns the parsed answer, with
# the seconds it took in {secs}.
sub expect {
	my ($name, $req, %want) = @_;
	my $t0 = time;
	my $r = fields_ok($name, $d->query($req, timeout => 12), %want);
	$r->{secs} = time - $t0;
	return $r;
}

my $MXOK = 'mx.ok.test[127.0.0.2]';

# ---------------------------------------------------------------- ok

expect('ok accepted: SENDER of a known user', 'SENDER <alice@ok.test>',
    result => 'ok', reason => 'accepted', code => 250, source => 'callout',
    mx => $MXOK, text => qr/2\.1\.5 Ok/);
expect('ok accepted: RECIPIENT of a known user', 'RECIPIENT <bob@ok.test>',
    result => 'ok', reason => 'accepted', code => 250, source => 'callout',
    mx => $MXOK, text => qr/2\.1\.5 Ok/);
expect('ok accepted: the domain is case-insensitive',
    'RECIPIENT carol@OK.Test',
    result => 'ok', reason => 'accepted', code => 250, mx => $MXOK);
expect('ok null: SENDER <>', 'SENDER <>',
    result => 'ok', reason => 'null', code => 250, source => 'policy',
    mx => undef);
expect('ok null: SENDER with no address', 'SENDER',
    result => 'ok', reason => 'null', code => 250, source => 'policy');
expect('ok null: SENDER with only an option', 'SENDER timeout=5',
    result => 'ok', reason => 'null', code => 250, source => 'policy');

# ---------------------------------------------------------------- fail

expect('fail rejected: RECIPIENT of an unknown user',
    'RECIPIENT <unknown1@ok.test>',
    result => 'fail', reason => 'rejected', code => 550,
    source => 'callout', mx => $MXOK,
    text => qr/^5\.1\.1 <unknown1\@ok\.test>: .*User unknown$/);
expect('fail rejected: SENDER of an unknown user', 'SENDER <dave@ok.test>',
    result => 'fail', reason => 'rejected', code => 550,
    source => 'callout', mx => $MXOK, text => qr/User unknown/);
expect('fail rejected: the remote\'s own 5xx code is passed on',
    'RECIPIENT <r553@ok.test>',
    result => 'fail', reason => 'rejected', code => 553,
    source => 'callout', text => qr/Scripted reply 553/);
expect('fail nullsender: 5xx to MAIL FROM:<>', 'SENDER <alice@nonull.test>',
    result => 'fail', reason => 'nullsender', code => 550,
    source => 'callout', mx => 'mx.nonull.test[127.0.0.3]',
    text => qr/null sender not accepted/);
expect('fail nxdomain', 'SENDER <alice@nosuch.test>',
    result => 'fail', reason => 'nxdomain', code => 550, source => 'dns',
    mx => undef);
expect('fail nullmx', 'RECIPIENT <alice@nullmx.test>',
    result => 'fail', reason => 'nullmx', code => 550, source => 'dns',
    mx => undef);
expect('fail nomx: no MX and no address', 'SENDER <alice@nomx.test>',
    result => 'fail', reason => 'nomx', code => 550, source => 'dns',
    mx => undef);
expect('fail nomx: the only MX host has no address',
    'SENDER <alice@noaddr.test>',
    result => 'fail', reason => 'nomx', code => 550, source => 'dns');
expect('fail bogusmx: MX on 10.0.0.1 (private)', 'SENDER <alice@bogus10.test>',
    result => 'fail', reason => 'bogusmx', code => 550, source => 'dns',
    mx => undef);
expect('fail bogusmx: MX on 127.0.0.5 (loopback, outside allow_networks)',
    'SENDER <alice@bogus127.test>',
    result => 'fail', reason => 'bogusmx', code => 550, source => 'dns');
expect('fail bogusmx: every MX filtered', 'RECIPIENT <alice@bogusboth.test>',
    result => 'fail', reason => 'bogusmx', code => 550, source => 'dns');
expect('a route by name to a refused address: defer from policy, no call',
    'RECIPIENT <alice@refusedroute.test>',
    result => 'defer', reason => 'unreachable', code => 451,
    source => 'policy', text => qr/allow_networks/);
expect('a route written as an address literal is trusted (doc/protocol.md 4a)',
    'RECIPIENT <alice@literalroute.test>',
    result => 'ok', reason => 'accepted', source => 'callout',
    mx => qr/\[127\.0\.0\.12\]/);
for my $a ('<foo>', '<alice@@ok.test>', '<alice@-bad-.test>',
    '<.alice@ok.test>', '<alice@ok..test>', '<alice@ok.test.>') {
	expect("fail syntax: SENDER $a", "SENDER $a",
	    result => 'fail', reason => 'syntax', code => 501, mx => undef);
}
expect('fail syntax: RECIPIENT <foo>', 'RECIPIENT <foo>',
    result => 'fail', reason => 'syntax', code => 501);
expect('a local part over 64 octets is asked as written (doc/protocol.md 4c)',
    'RECIPIENT <' . ('a' x 65) . '@ok.test>',
    result => 'fail', reason => 'rejected', code => 550,
    source => 'callout', text => qr/^5\.1\.1 <a{65}\@ok\.test>/);
expect('fail syntax: local part over 256 octets',
    'RECIPIENT <' . ('a' x 257) . '@ok.test>',
    result => 'fail', reason => 'syntax', code => 501, source => 'policy');
expect('fail syntax is decided by policy: source=policy',
    'RECIPIENT <foo@>',
    result => 'fail', reason => 'syntax', code => 501, source => 'policy');

# ---------------------------------------------------------------- defer

expect('defer tempfail: 451 greylisting at RCPT', 'RECIPIENT <grey1@ok.test>',
    result => 'defer', reason => 'tempfail', code => 451,
    source => 'callout', mx => $MXOK, text => qr/Greylisted/);
my $r = expect('defer timeout: RCPT never answered (command_timeout 2s)',
    'RECIPIENT <tarpit1@ok.test>',
    result => 'defer', reason => 'timeout', code => 451,
    source => 'callout', mx => $MXOK);
cmp_ok($r->{secs}, '>=', 1.5, '... not before command_timeout');
cmp_ok($r->{secs}, '<', 5, '... soon after it');
expect('defer unreachable: nothing listens on the MX',
    'SENDER <alice@dead.test>',
    result => 'defer', reason => 'unreachable', code => 451,
    source => 'callout');
expect('defer dnsfail: SERVFAIL', 'SENDER <alice@servfail.test>',
    result => 'defer', reason => 'dnsfail', code => 451, source => 'dns',
    mx => undef);
$r = expect('defer dnsfail: no DNS answer (dns_timeout 1s, no retries)',
    'SENDER <alice@dnstimeout.test>',
    result => 'defer', reason => 'dnsfail', code => 451, source => 'dns');
cmp_ok($r->{secs}, '<', 4, '... within a few seconds');
expect('defer dnsfail: truncated reply', 'SENDER <alice@trunc.test>',
    result => 'defer', reason => 'dnsfail', code => 451, source => 'dns');
$r = expect('defer inprogress: timeout=1 and a 1.5 s RCPT',
    'RECIPIENT <slow1@ok.test> timeout=1',
    result => 'defer', reason => 'inprogress', code => 451);
cmp_ok($r->{secs}, '>=', 0.8, '... answered at the deadline');
cmp_ok($r->{secs}, '<', 1.8, '... not later');

# ---------------------------------------------------------------- unknown

expect('unknown catchall: a random address is accepted too',
    'RECIPIENT <alice@catchall.test>',
    result => 'unknown', reason => 'catchall', code => 250,
    source => 'callout', mx => 'mx.catchall.test[127.0.0.7]');
my @rc = smtp_commands($smtp, '127.0.0.7');
my @rcpt = grep { /^RCPT TO:/ } @rc;
ok(@rcpt == 2 && $rcpt[0] eq 'RCPT TO:<alice@catchall.test>'
    && $rcpt[1] =~ /^RCPT TO:<[^>\@]+\@catchall\.test>$/
    && $rcpt[1] ne $rcpt[0], '... the probe is one extra RCPT at the domain')
    or diag(join("\n", @rc));
is(sessions_to($smtp, '127.0.0.7'), 1, '... in the same session');
expect('unknown blocked: 554 greeting', 'SENDER <alice@greet554.test>',
    result => 'unknown', reason => 'blocked', code => 554,
    source => 'callout', mx => 'mx.greet554.test[127.0.0.8]',
    text => qr/No SMTP service/);
expect('unknown blocked: 5xx to both EHLO and HELO',
    'SENDER <alice@blockhelo.test>',
    result => 'unknown', reason => 'blocked', code => 550,
    source => 'callout', text => qr/Access denied/);
ok((grep { /^HELO / } smtp_commands($smtp, '127.0.0.10')),
    '... HELO was tried after EHLO');

expect('unknown skipped: skip_domains', 'SENDER <alice@skipped.test>',
    result => 'unknown', reason => 'skipped', code => 250,
    source => 'policy', mx => undef);
expect('unknown skipped: skip_domains, RECIPIENT',
    'RECIPIENT <bob@Skipped.Test>',
    result => 'unknown', reason => 'skipped', code => 250,
    source => 'policy');
is(scalar($dns->queries('skipped.test')), 0,
    '... no DNS query for a skipped domain');
expect('unknown skipped: the target greets with our helo_name',
    'SENDER <alice@loop.test>',
    result => 'unknown', reason => 'skipped', code => 250,
    source => qr/^(callout|policy)$/);
ok(!(grep { /^(MAIL|RCPT)\b/ } smtp_commands($smtp, '127.0.0.11')),
    '... no MAIL or RCPT sent to ourselves');
expect('unknown skipped: the only MX is our own interface 127.0.0.1',
    'SENDER <alice@self.test>',
    result => 'unknown', reason => 'skipped', code => 250,
    source => qr/^(policy|dns)$/);

# ---------------------------------------------------------------- traffic

is(sessions_to($smtp, '127.0.0.5'), 0,
    'no connection to 127.0.0.5 (outside allow_networks)');
is(sessions_to($smtp, '127.0.0.1'), 0,
    'no connection to 127.0.0.1 (our own interface)');
ok($d->alive, 'savd is still running');

done_testing();
