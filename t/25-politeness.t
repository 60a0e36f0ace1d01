#!/usr/bin/perl
# 25-politeness.t - the limits that keep savd from hammering a remote
# (doc/protocol.md 4a, issue 4 item 2), counted in the SMTP fixture's log:
#
# - domain_rate: a burst of distinct addresses at one domain lets at most
#   the configured number of verifications reach the fixture; the rest get
#   `defer ratelimited` (451, source=policy); cached answers are never
#   limited, even with an empty bucket.
# - max_callouts: a verification still waiting for a slot when its deadline
#   passes gets `defer overloaded`.
# - host_concurrency=1: several domains on one MX address never have more
#   than one SMTP connection open to it at once (CONNECT/CLOSE overlap).
# - back-off after a 421 (RCPT and greeting): STATS and HEALTH show it, the
#   next verification to that host makes no connection and answers `defer
#   ratelimited`; another host is unaffected.
# - RCPT batching: concurrent addresses at one domain share one session
#   (max_rcpt_per_session caps the RCPTs per session), and two MAIL FROM
#   values never share a transaction.
#
# Every daemon runs with catchall_probe=no so that each RCPT in the log is
# one verification.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use Savd qw(:all);

my $SLOW = 2;   # seconds the fixture takes to answer RCPT for slow*

my $zone = <<'EOF';
mx.a.test          A    127.0.0.2
mx.hc.test         A    127.0.0.3
mx.bo.test         A    127.0.0.4
mx.other.test      A    127.0.0.5
mx.g421.test       A    127.0.0.6
rate.test          MX   10 mx.a.test
ov1.test           MX   10 mx.a.test
ov2.test           MX   10 mx.a.test
ov3.test           MX   10 mx.a.test
ov4.test           MX   10 mx.a.test
hc1.test           MX   10 mx.hc.test
hc2.test           MX   10 mx.hc.test
hc3.test           MX   10 mx.hc.test
bo.test            MX   10 mx.bo.test
bo2.test           MX   10 mx.bo.test
other.test         MX   10 mx.other.test
g421.test          MX   10 mx.g421.test
batch.test         MX   10 mx.a.test
batch.test         DELAY 1 MX
batch4.test        MX   10 mx.a.test
batch4.test        DELAY 1 MX
mf.test            MX   10 mx.a.test
mf.test            DELAY 1 MX
EOF

my $dir = tempdir();
my $dns = start_dns($zone, dir => $dir);
my $smtp = start_smtp(dir => $dir, tag => 1, slow => $SLOW, accept_all => 1,
    listen => [map { "127.0.0.$_" } 2 .. 6],
    profile => { '127.0.0.6' => 'greet421' });

my %BASE = (catchall_probe => 'no', answer_timeout => '10s',
    command_timeout => '10s', domain_rate => '1000/1m');

sub daemon {
	my (%conf) = @_;
	return start_savd(dns => $dns, smtp => $smtp,
	    conf => { %BASE, %conf });
}



# Sessions of the fixture that sent a RCPT for an address at $domain.
sub sessions_for_domain {
	my ($domain) = @_;
	return grep { grep { /^C: RCPT TO:<[^>]*\@\Q$domain\E>/i }
	    @{ $_->{lines} } } @{ $smtp->sessions };
}

# Distinct RCPT addresses at $domain in the whole fixture log.
sub rcpts_for_domain {
	my ($domain) = @_;
	my %seen;
	for my $s (@{ $smtp->sessions }) {
		for (@{ $s->{lines} }) {
			$seen{ lc $1 } = 1
			    if /^C: RCPT TO:<([^>]*\@\Q$domain\E)>/i;
		}
	}
	my @a = sort keys %seen;
	return @a;
}

# Transactions of a session: [{from => MAIL FROM address, rcpts => [...]}].
sub transactions {
	my ($s) = @_;
	my (@t, $cur);
	for (@{ $s->{lines} }) {
		if (/^C: MAIL FROM:\s*<([^>]*)>/i) {
			$cur = { from => $1, rcpts => [] };
			push @t, $cur;
		} elsif (/^C: (?:RSET|EHLO|HELO)\b/i) {
			$cur = undef;
		} elsif (/^C: RCPT TO:\s*<([^>]*)>/i) {
			push @{ $cur->{rcpts} }, $1 if $cur;
		}
	}
	return @t;
}

# The most connections the fixture had open at once to $ip (tagged log).
sub max_open_to {
	my ($ip) = @_;
	my (%local, %open);
	my ($n, $max) = (0, 0);
	for (split /\n/, $smtp->log_text) {
		my ($id, $rest) = /^#(\d+) (.*)$/ or next;
		if ($rest =~ /^CONNECT \S+ -> (\S+)$/) {
			$local{$id} = $1;
			next unless $1 eq $ip;
			$open{$id} = 1;
			$n++;
			$max = $n if $n > $max;
		} elsif ($rest eq 'CLOSE' && delete $open{$id}) {
			$n--;
		}
	}
	return $max;
}

# ---------------------------------------------------------------- domain_rate

{
	my $d = daemon(domain_rate => '3/1m');
	my @addr = map { "user$_\@rate.test" } 1 .. 10;
	my $t0 = time;
	my @ans = $d->concurrent(8, map { "SENDER <$_> timeout=2" } @addr);
	my $took = time - $t0;
	is(scalar(grep { defined } @ans), 10, 'rate: all 10 answered')
	    or diag(explain \@ans);
	my @r = map { parse_response($_) // {} } @ans;
	my @okidx = grep { ($r[$_]{result} // '') eq 'ok' } 0 .. $#r;
	my @rl = grep { ($_->{reason} // '') eq 'ratelimited' } @r;
	my @rcpts = rcpts_for_domain('rate.test');
	cmp_ok(scalar(@rcpts), '<=', 3,
	    'rate: at most 3 distinct RCPTs reached the fixture')
	    or diag("RCPTs: @rcpts");
	cmp_ok(scalar(@rcpts), '>=', 1, 'rate: the first ones were verified');
	is(scalar(@okidx), scalar(@rcpts),
	    'rate: one ok answer per RCPT sent') or diag(explain \@ans);
	is(scalar(@rl), 10 - scalar(@rcpts),
	    'rate: every other request got defer ratelimited')
	    or diag(explain \@ans);
	my @badrl = grep { $_->{result} ne 'defer' || $_->{code} ne '451'
	    || ($_->{source} // '') ne 'policy' } @rl;
	ok(!@badrl, 'rate: ratelimited answers are defer code=451 '
	    . 'source=policy') or diag(explain \@badrl);
	cmp_ok($took, '<', 6, 'rate: answered near the 2 s deadline');
	my $st = $d->stats;
	cmp_ok($st->{ratelimited} // 0, '>=', scalar(@rl),
	    'rate: STATS counts the ratelimited answers');

	# The bucket is empty now: a cached answer still comes at once.
	SKIP: {
		skip 'no address was verified', 5 unless @okidx;
		my $a = $addr[ $okidx[0] ];
		fields_ok('rate: verified address answered from cache with '
		    . 'an empty bucket', $d->query("SENDER <$a> timeout=2"),
		    result => 'ok', reason => 'accepted', source => 'cache');
		fields_ok('rate: a new address is still ratelimited',
		    $d->query('SENDER <late@rate.test> timeout=1'),
		    result => 'defer', reason => 'ratelimited', code => 451,
		    source => 'policy');
		my @again = rcpts_for_domain('rate.test');
		is(scalar(@again), scalar(@rcpts),
		    'rate: no further RCPT reached the fixture');
		# No token before the deadline: answered at once, not held
		# for 10 s and then deferred (issue 13 item 2).
		my $t1 = time;
		my $r = fields_ok('rate: a question that cannot start in time',
		    $d->query('SENDER <held@rate.test> timeout=10',
		    timeout => 15), result => 'defer', reason => 'ratelimited',
		    source => 'policy', text => qr/domain_rate for rate\.test/);
		cmp_ok(time - $t1, '<', 5,
		    'rate: ... is answered at once, not at its 10 s deadline');
	}
	$d->stop;
}

# ---------------------------------------------------------------- max_callouts

{
	my $d = daemon(max_callouts => 2, host_concurrency => 10);
	my @c = map { $d->session } 1 .. 2;
	$c[$_ - 1]->send("SENDER <slow$_\@ov$_.test> timeout=8\n") for 1 .. 2;
	$_->shutdown_write for @c;
	# Both are in flight (their sessions wait for the slow RCPT).
	ok(wait_for(sub { scalar(rcpts_for_domain('ov1.test'))
	    && scalar(rcpts_for_domain('ov2.test')) }, 5),
	    'overload: two slow callouts in flight');
	my $t0 = time;
	my $third = $d->query('SENDER <slow3@ov3.test> timeout=1',
	    timeout => 5);
	my $took = time - $t0;
	fields_ok('overload: a third verification gets defer overloaded',
	    $third, result => 'defer', reason => 'overloaded', code => 451,
	    source => 'policy');
	cmp_ok($took, '<', $SLOW, 'overload: answered at its own deadline');
	fields_ok("overload: first slow verification completes",
	    $c[0]->readline(8), result => 'ok', reason => 'accepted');
	fields_ok("overload: second slow verification completes",
	    $c[1]->readline(8), result => 'ok', reason => 'accepted');
	$_->close for @c;
	cmp_ok($d->stats->{overloaded} // 0, '>=', 1,
	    'overload: STATS counts it');
	fields_ok('overload: with the slots free again, a verification runs',
	    $d->query('SENDER <alice@ov4.test> timeout=5', timeout => 8),
	    result => 'ok', reason => 'accepted', source => 'callout');
	$d->stop;
}

# ---------------------------------------------------------------- host_concurrency

{
	my $d = daemon(host_concurrency => 1);
	my @ans = $d->concurrent(15,
	    map { "SENDER <slow$_\@hc$_.test> timeout=14" } 1 .. 3);
	for my $i (1 .. 3) {
		fields_ok("hc: slow$i\@hc$i.test verified", $ans[$i - 1],
		    result => 'ok', reason => 'accepted');
	}
	is($smtp->sessions_to('127.0.0.3'), 3,
	    'hc: one session per domain to the shared MX');
	is(max_open_to('127.0.0.3'), 1,
	    'hc: never more than 1 connection open at once to 127.0.0.3');

	# Waiting for a connection slot is our limit: at its deadline such a
	# request gets defer ratelimited, not inprogress (doc/protocol.md 4a).
	my @c = map { $d->session } 1 .. 2;
	$c[0]->send("SENDER <slow4\@hc1.test> timeout=10\n");
	$c[0]->shutdown_write;
	ok(wait_for(sub { grep { /RCPT TO:<slow4\@hc1.test>/ }
	    split(/\n/, Savd::slurp($smtp->{log})) }, 5),
	    'hc: a slow callout holds the only slot');
	$c[1]->send("SENDER <slow5\@hc2.test> timeout=1\n");
	$c[1]->shutdown_write;
	fields_ok('hc: a request waiting for the slot: defer ratelimited',
	    $c[1]->readline(5), result => 'defer', reason => 'ratelimited',
	    code => 451, source => 'policy');
	fields_ok('hc: the running one: ok', $c[0]->readline(10),
	    result => 'ok', reason => 'accepted');
	$d->stop;
}

# ---------------------------------------------------------------- back-off

{
	my $d = daemon();
	my $r = fields_ok('backoff: RCPT answered 421 -> defer',
	    $d->query('SENDER <r421x@bo.test> timeout=5', timeout => 8),
	    result => 'defer');
	is($smtp->sessions_to('127.0.0.4'), 1, 'backoff: one session so far');
	my $st = $d->stats;
	cmp_ok($st->{backoffs} // 0, '>=', 1, 'backoff: STATS backoffs >= 1')
	    or diag(explain $st);
	cmp_ok($st->{backed_off} // 0, '>=', 1,
	    'backoff: STATS backed_off >= 1');
	like($st->{backoff} // '', qr/(?:^|,)127\.0\.0\.4(?:,|$)/,
	    'backoff: STATS backoff= names 127.0.0.4');
	my $h = parse_response($d->query('HEALTH'));
	cmp_ok($h->{backed_off} // 0, '>=', 1, 'backoff: HEALTH backed_off')
	    or diag(explain $h);
	like($h->{backoff} // '', qr/(?:^|,)127\.0\.0\.4(?:,|$)/,
	    'backoff: HEALTH backoff= names 127.0.0.4');

	for my $a ('alice@bo.test', 'bob@bo2.test') {
		fields_ok("backoff: $a during the pause -> defer ratelimited",
		    $d->query("SENDER <$a> timeout=5", timeout => 8),
		    result => 'defer', reason => 'ratelimited', code => 451);
	}
	is($smtp->sessions_to('127.0.0.4'), 1,
	    'backoff: no new connection to the paused host');

	fields_ok('backoff: another host is unaffected',
	    $d->query('SENDER <alice@other.test> timeout=5', timeout => 8),
	    result => 'ok', reason => 'accepted', source => 'callout');
	is($smtp->sessions_to('127.0.0.5'), 1,
	    'backoff: the other host got its session');
	unlike(parse_response($d->query('STATS'))->{backoff} // '',
	    qr/127\.0\.0\.5/, 'backoff: the other host is not backed off');

	# A 421 greeting backs off too.
	fields_ok('backoff: 421 greeting -> defer',
	    $d->query('SENDER <alice@g421.test> timeout=5', timeout => 8),
	    result => 'defer');
	my $n = $smtp->sessions_to('127.0.0.6');
	like(parse_response($d->query('STATS'))->{backoff} // '',
	    qr/(?:^|,)127\.0\.0\.6(?:,|$)/,
	    'backoff: 421 greeting puts 127.0.0.6 in back-off');
	fields_ok('backoff: next verification there -> defer ratelimited',
	    $d->query('SENDER <bob@g421.test> timeout=5', timeout => 8),
	    result => 'defer', reason => 'ratelimited');
	is($smtp->sessions_to('127.0.0.6'), $n,
	    'backoff: no new connection after the 421 greeting');
	$d->stop;
}

# ---------------------------------------------------------------- batching

{
	my $d = daemon(max_rcpt_per_session => 10);
	my @addr = map { "b$_\@batch.test" } 1 .. 10;
	my @ans = $d->concurrent(10, map { "SENDER <$_> timeout=8" } @addr);
	my $good = grep { ($_ // '') =~ /^result=ok .*reason=accepted/ } @ans;
	is($good, 10, 'batch: all 10 addresses verified ok')
	    or diag(explain \@ans);
	my @s = sessions_for_domain('batch.test');
	is(scalar(@s), 1, 'batch: 10 addresses in ONE SMTP session');
	my @t = map { transactions($_) } @s;
	is(scalar(@t), 1, 'batch: one MAIL FROM') or diag(explain \@t);
	my %r = map { lc($_) => 1 } map { @{ $_->{rcpts} } } @t;
	is_deeply([sort keys %r], [sort @addr],
	    'batch: 10 RCPT TO, one per address');
	is(scalar(map { @{ $_->{rcpts} } } @t), 10,
	    'batch: no address sent twice');

	# Two MAIL FROM values at one domain, at once.
	my @mf = $d->concurrent(10,
	    'RECIPIENT <a@mf.test> from=<x@y.test> timeout=8',
	    'SENDER <b@mf.test> timeout=8');
	fields_ok('mailfrom: RECIPIENT with from= verified', $mf[0],
	    result => 'ok', reason => 'accepted');
	fields_ok('mailfrom: SENDER verified', $mf[1],
	    result => 'ok', reason => 'accepted');
	my @mt = map { transactions($_) } sessions_for_domain('mf.test');
	my %from_of;
	for my $t (@mt) {
		push @{ $from_of{ lc $_ } }, $t->{from} for @{ $t->{rcpts} };
	}
	is_deeply($from_of{'a@mf.test'}, ['x@y.test'],
	    'mailfrom: a@mf.test sent under MAIL FROM:<x@y.test>')
	    or diag(explain \@mt);
	is_deeply($from_of{'b@mf.test'}, [''],
	    'mailfrom: b@mf.test sent under MAIL FROM:<>');
	my @both = grep { my %a = map { lc($_) => 1 } @{ $_->{rcpts} };
	    $a{'a@mf.test'} && $a{'b@mf.test'} } @mt;
	ok(!@both,
	    'mailfrom: no transaction carries both addresses');
	$d->stop;
}

{
	my $d = daemon(max_rcpt_per_session => 4);
	my @addr = map { "c$_\@batch4.test" } 1 .. 10;
	my @ans = $d->concurrent(10, map { "SENDER <$_> timeout=8" } @addr);
	my $good = grep { ($_ // '') =~ /^result=ok .*reason=accepted/ } @ans;
	is($good, 10, 'batch4: all 10 addresses verified ok')
	    or diag(explain \@ans);
	my @s = sessions_for_domain('batch4.test');
	is(scalar(@s), 3, 'batch4: 10 addresses, 4 per session: 3 sessions');
	my @per = map { scalar(map { @{ $_->{rcpts} } } transactions($_)) }
	    @s;
	ok(!(grep { $_ > 4 } @per), 'batch4: no session has more than 4 RCPTs')
	    or diag("RCPTs per session: @per");
	is(scalar(rcpts_for_domain('batch4.test')), 10,
	    'batch4: every address sent');
	$d->stop;
}

done_testing();
