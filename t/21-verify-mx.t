#!/usr/bin/perl
# 21-verify-mx.t - how savd walks the mail hosts of a domain (doc/protocol.md
# section 3a): preference order, fallback to the next MX after a 4xx, a
# dead host, a silent host or a dropped connection; the most informative
# failure when every host fails (tempfail over timeout over unreachable);
# several addresses per host; an IPv6 MX on ::1; the implicit MX of RFC
# 5321 5.1; `routes` for call-forward; RECIPIENT's from= as MAIL FROM.
#
# Addresses: 127.0.0.2 accepts (alice, bob, ...), 127.0.0.3 answers 451 to
# MAIL, 127.0.0.6 never greets, 127.0.0.8 closes at once, 127.0.0.7 is a
# catch-all, 127.0.0.4 is the routed host; nothing listens on 127.0.0.9
# and 127.0.0.12; [::1] accepts.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time);
use Savd qw(:all);

my $zone = <<'EOF';
mx.ok.test         A    127.0.0.2
mx.grey.test       A    127.0.0.3
mx.tarpit.test     A    127.0.0.6
mx.drop.test       A    127.0.0.8
mx.dead.test       A    127.0.0.9
mx.dead2.test      A    127.0.0.12
mx.all.test        A    127.0.0.7
mx.v6.test         AAAA ::1
mx.multi.test      A    127.0.0.9
mx.multi.test      A    127.0.0.2
ok.test            MX   10 mx.ok.test
pref.test          MX   20 mx.all.test
pref.test          MX   10 mx.ok.test
grey1st.test       MX   10 mx.grey.test
grey1st.test       MX   20 mx.ok.test
dead1st.test       MX   10 mx.dead.test
dead1st.test       MX   20 mx.ok.test
slow1st.test       MX   10 mx.tarpit.test
slow1st.test       MX   20 mx.ok.test
drop1st.test       MX   10 mx.drop.test
drop1st.test       MX   20 mx.ok.test
reject1st.test     MX   10 mx.ok.test
reject1st.test     MX   20 mx.all.test
allfail.test       MX   10 mx.dead.test
allfail.test       MX   20 mx.tarpit.test
allfail.test       MX   30 mx.grey.test
allfailr.test      MX   10 mx.grey.test
allfailr.test      MX   20 mx.tarpit.test
allfailr.test      MX   30 mx.dead.test
deadslow.test      MX   10 mx.dead.test
deadslow.test      MX   20 mx.tarpit.test
slowdead.test      MX   10 mx.tarpit.test
slowdead.test      MX   20 mx.dead.test
alldead.test       MX   10 mx.dead.test
alldead.test       MX   20 mx.dead2.test
multi.test         MX   10 mx.multi.test
v6.test            MX   10 mx.v6.test
implicit.test      A    127.0.0.2
implicit6.test     AAAA ::1
EOF

my $dir = tempdir();
my $dns = start_dns($zone, dir => $dir);
my $smtp = start_smtp(dir => $dir, tag => 1,
    listen => [(map { "127.0.0.$_" } 2, 3, 4, 6, 7, 8), '[::1]'],
    profile => {
	'127.0.0.3' => 'mail451',
	'127.0.0.6' => 'tarpit',
	'127.0.0.7' => 'catchall',
	'127.0.0.8' => 'dropgreet',
    });
my $port = $smtp->port;
my $d = start_savd(dir => $dir, dns => $dns, smtp => $smtp, conf => {
	command_timeout => '1s',
	connect_timeout => '1s',
	answer_timeout => '10s',
	routes => "routed.test=[127.0.0.4]:$port, typo.test=nohost.test:$port",
});

# Send $req and check the answer (Savd::fields_ok).
sub expect {
	my ($name, $req, %want) = @_;
	return fields_ok($name, $d->query($req, timeout => 12), %want);
}

# Local addresses of the sessions opened since there were $from, in order.
sub order_since {
	my ($from) = @_;
	my @s = @{ $smtp->sessions };
	return join(' ', map { $_->{local} } @s[$from .. $#s]);
}

sub nsess { scalar @{ $smtp->sessions } }

# ---------------------------------------------------------------- order

my $n = nsess();
expect('preference order: the lower preference is tried first',
    'RECIPIENT <alice@pref.test>',
    result => 'ok', reason => 'accepted', mx => 'mx.ok.test[127.0.0.2]');
is(order_since($n), '127.0.0.2', '... one session, to the MX 10 host');

$n = nsess();
expect('a 5xx at the first MX decides: no second MX',
    'RECIPIENT <unknown@reject1st.test>',
    result => 'fail', reason => 'rejected', code => 550,
    mx => 'mx.ok.test[127.0.0.2]');
is(order_since($n), '127.0.0.2', '... the catch-all MX 20 was not asked');

# ---------------------------------------------------------------- fallback

$n = nsess();
expect('fallback: first MX answers 451 to MAIL, second accepts',
    'RECIPIENT <alice@grey1st.test>',
    result => 'ok', reason => 'accepted', code => 250, source => 'callout',
    mx => 'mx.ok.test[127.0.0.2]');
is(order_since($n), '127.0.0.3 127.0.0.2', '... 451 host first, then MX 20');

$n = nsess();
expect('fallback: nothing listens on the first MX, second accepts',
    'RECIPIENT <alice@dead1st.test>',
    result => 'ok', reason => 'accepted', mx => 'mx.ok.test[127.0.0.2]');
is(order_since($n), '127.0.0.2', '... one session, to MX 20');

$n = nsess();
my $t0 = time;
expect('fallback: first MX never greets (timeout), second accepts',
    'RECIPIENT <alice@slow1st.test>',
    result => 'ok', reason => 'accepted', mx => 'mx.ok.test[127.0.0.2]');
cmp_ok(time - $t0, '<', 4, '... within about one command_timeout');
is(order_since($n), '127.0.0.6 127.0.0.2', '... silent host, then MX 20');

$n = nsess();
expect('fallback: first MX drops the connection, second accepts',
    'RECIPIENT <alice@drop1st.test>',
    result => 'ok', reason => 'accepted', mx => 'mx.ok.test[127.0.0.2]');
is(order_since($n), '127.0.0.8 127.0.0.2', '... dropping host, then MX 20');

$n = nsess();
expect('fallback: dead address of a host, then its next address',
    'RECIPIENT <alice@multi.test>',
    result => 'ok', reason => 'accepted', mx => 'mx.multi.test[127.0.0.2]');
is(order_since($n), '127.0.0.2', '... one session, to the live address');

# ---------------------------------------------------------------- all fail

expect('all fail: unreachable, timeout, 451 -> tempfail',
    'RECIPIENT <alice@allfail.test>',
    result => 'defer', reason => 'tempfail', code => 451);
expect('all fail: 451, timeout, unreachable -> tempfail',
    'RECIPIENT <alice@allfailr.test>',
    result => 'defer', reason => 'tempfail', code => 451);
expect('all fail: unreachable, timeout -> timeout',
    'RECIPIENT <alice@deadslow.test>',
    result => 'defer', reason => 'timeout', code => 451);
expect('all fail: timeout, unreachable -> timeout',
    'RECIPIENT <alice@slowdead.test>',
    result => 'defer', reason => 'timeout', code => 451);
expect('all fail: both unreachable -> unreachable',
    'RECIPIENT <alice@alldead.test>',
    result => 'defer', reason => 'unreachable', code => 451);

# ---------------------------------------------------------------- IPv6

$n = nsess();
expect('IPv6: an MX with only an AAAA record on ::1',
    'RECIPIENT <alice@v6.test>',
    result => 'ok', reason => 'accepted', code => 250, source => 'callout',
    mx => 'mx.v6.test[::1]');
is(order_since($n), '::1', '... the session came in on [::1]');
expect('IPv6: an unknown user there', 'RECIPIENT <unknown@v6.test>',
    result => 'fail', reason => 'rejected', code => 550,
    mx => 'mx.v6.test[::1]');

# ---------------------------------------------------------------- implicit

$n = nsess();
expect('implicit MX: a domain with an A record and no MX',
    'SENDER <alice@implicit.test>',
    result => 'ok', reason => 'accepted', source => 'callout',
    mx => 'implicit.test[127.0.0.2]');
is(order_since($n), '127.0.0.2', '... the session went to its A address');
ok((grep { $_ eq 'implicit.test MX' } $dns->queries),
    '... after an MX query');
expect('implicit MX: AAAA only', 'SENDER <bob@implicit6.test>',
    result => 'ok', reason => 'accepted', mx => 'implicit6.test[::1]');

# ---------------------------------------------------------------- from=

sub mail_froms {
	my ($rcpt) = @_;
	for my $s (@{ $smtp->sessions }) {
		my @c = map { /^C: (.*)/ ? $1 : () } @{ $s->{lines} };
		next unless grep { lc $_ eq lc "RCPT TO:<$rcpt>" } @c;
		return join(' ', grep { /^MAIL / } @c);
	}
	return '(no session)';
}

expect('RECIPIENT with from=', 'RECIPIENT <bob@ok.test> from=<x@y.test>',
    result => 'ok', reason => 'accepted');
like(mail_froms('bob@ok.test'), qr/^MAIL FROM:<x\@y\.test>( |$)/,
    '... the callout used MAIL FROM:<x@y.test>');
expect('RECIPIENT without from=', 'RECIPIENT <carol@ok.test>',
    result => 'ok', reason => 'accepted');
like(mail_froms('carol@ok.test'), qr/^MAIL FROM:<>( |$)/,
    '... the callout used MAIL FROM:<> (mail_from is empty)');

# ---------------------------------------------------------------- routes

$n = nsess();
expect('routes: RECIPIENT for a routed domain goes to the fixed host',
    'RECIPIENT <alice@routed.test>',
    result => 'ok', reason => 'accepted', code => 250, source => 'callout',
    mx => qr/\[127\.0\.0\.4\]$/);
is(order_since($n), '127.0.0.4', '... one session, to 127.0.0.4');
is(scalar($dns->queries('routed.test')), 0,
    '... without any DNS query for the domain');
expect('routes: an unknown user at the routed domain',
    'RECIPIENT <unknown@Routed.Test>',
    result => 'fail', reason => 'rejected', code => 550,
    mx => qr/\[127\.0\.0\.4\]$/);
is(scalar($dns->queries('routed.test')), 0, '... still no DNS query');

# A route whose host does not resolve is our mistake, never the domain's.
expect('routes: a route host without an address: defer, not fail',
    'RECIPIENT <alice@typo.test>',
    result => 'defer', reason => 'unreachable', source => 'policy');
expect('... nor cached as a domain fact', 'RECIPIENT <bob@typo.test>',
    result => 'defer', source => 'policy');
expect('routes: SENDER at a routed domain is not routed',
    'SENDER <alice@typo.test>', result => 'fail', reason => 'nxdomain');

ok($d->alive, 'savd is still running');
done_testing();
