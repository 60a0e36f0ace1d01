#!/usr/bin/perl
# 22-verify-concurrency.t - many verifications at once on savd's one loop:
# identical requests in flight share one SMTP session (counted in the
# fixture log) and all get its answer; the answer deadline gives `defer
# inprogress` while the callout goes on and its result is cached for the
# retry; a client that disconnects early cancels nothing; pipelined answers
# keep request order; concurrent distinct requests each get their own
# answer while PING stays quick.  (The limits, domain_rate and
# max_callouts, are in 25-politeness.t.)
#
# The fixture answers RCPT for local parts "slow*" after 3 s.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use Savd qw(:all);

my $zone = <<'EOF';
ok.test            MX   10 mx.ok.test
mx.ok.test         A    127.0.0.2
EOF
$zone .= "d$_.test MX 10 mx.ok.test\n" for 1 .. 10;

my $dir = tempdir();
my $dns = start_dns($zone, dir => $dir);
my $smtp = start_smtp(dir => $dir, tag => 1, slow => 3,
    listen => ['127.0.0.2']);
my $d = start_savd(dir => $dir, dns => $dns, smtp => $smtp, conf => {
	answer_timeout => '10s',
	command_timeout => '10s',
	domain_rate => '1000/1m',
	host_concurrency => 100,
});


# Sessions (of $smtp) that sent RCPT TO:<$addr>.
sub sessions_for {
	my ($smtp, $addr) = @_;
	return grep { my $s = $_; grep { lc $_ eq lc "C: RCPT TO:<$addr>" }
	    @{ $s->{lines} } } @{ $smtp->sessions };
}


# ---------------------------------------------------------------- coalescing

my $N = 20;
my $t0 = time;
my @c = map { $d->session } 1 .. $N;
ok(!(grep { !$_ } @c), "$N client connections open");
$_->send("SENDER <slow1\@ok.test>\n") for @c;
$_->shutdown_write for @c;
my $tp = time;
my $pong = $d->query('PING', timeout => 2);
my $ping_secs = time - $tp;
fields_ok('PING while the callout runs', $pong, result => 'ok',
    reason => 'pong');
cmp_ok($ping_secs, '<', 0.5, '... answered at once (the loop is free)');
my @ans = map { $_->readline(10) } @c;
$_->close for @c;
my @p = map { parse_response($_) // {} } @ans;
is(scalar(grep { defined } @ans), $N, "$N identical queries: $N answers");
is(scalar(grep { ($_->{result} // '') eq 'ok'
    && ($_->{reason} // '') eq 'accepted' && ($_->{code} // '') eq '250' }
    @p), $N, '... every one is ok accepted 250')
    or diag(join("\n", map { $_ // '(none)' } @ans));
is(scalar(grep { ($_->{source} // '') eq 'callout' } @p), $N,
    '... every one from the callout (they were all in flight)');
is(scalar(sessions_for($smtp, 'slow1@ok.test')), 1,
    '... exactly one SMTP session for them');
is(scalar(grep { $_ eq 'RCPT TO:<slow1@ok.test>' } $smtp->commands), 1,
    '... and exactly one RCPT TO');

# ---------------------------------------------------------------- deadline

# Two slow checks started first, to save time; looked at further down: a
# client that goes away at once, and pipelined slow, fast, PING.
my $c1 = $d->session;
$c1->send("RECIPIENT <slow3\@ok.test>\n");
my $po = $d->session;
$po->send("RECIPIENT <slow4\@ok.test>\nRECIPIENT <unknown4\@ok.test>\n"
    . "PING\n");
$po->shutdown_write;
sleep(0.1);
$c1->close;

$t0 = time;
my $line = $d->query('SENDER <slow2@ok.test> timeout=1', timeout => 5);
my $secs = time - $t0;
fields_ok('timeout=1 and a 3 s RCPT: defer inprogress', $line,
    result => 'defer', reason => 'inprogress', code => 451);
cmp_ok($secs, '>=', 0.8, '... at the deadline');
cmp_ok($secs, '<', 2, '... within 2 s');
my $s2 = wait_for(sub { my @s = sessions_for($smtp, 'slow2@ok.test');
    @s && $s[0]{closed} ? $s[0] : 0 }, 8);
ok($s2 && (grep { /^S: 250 2\.1\.5/ } @{ $s2->{lines} }),
    '... the callout went on: the RCPT got its 250 and the session ended');
$line = $d->query('SENDER <slow2@ok.test> timeout=1', timeout => 5);
fields_ok('the retry a few seconds later is answered from the cache', $line,
    result => 'ok', reason => 'accepted', code => 250, source => 'cache',
    age => qr/^\d+$/);
is(scalar(sessions_for($smtp, 'slow2@ok.test')), 1,
    '... without a second session');

# ---------------------------------------------------------------- disconnect

my $s3 = wait_for(sub { my @s = sessions_for($smtp, 'slow3@ok.test');
    @s && $s[0]{closed} ? $s[0] : 0 }, 8);
ok($s3 && (grep { /^S: 250 2\.1\.5/ } @{ $s3->{lines} })
    && (grep { $_ eq 'C: QUIT' } @{ $s3->{lines} }),
    'a client that disconnects: its callout completes (RCPT answered, QUIT)')
    or diag(join("\n", @{ ($s3 // {})->{lines} // [] }));
fields_ok('... and its result is cached',
    $d->query('RECIPIENT <slow3@ok.test>', timeout => 5),
    result => 'ok', reason => 'accepted', source => 'cache');
is(scalar(sessions_for($smtp, 'slow3@ok.test')), 1, '... one session');

# ---------------------------------------------------------------- ordering

my @l = grep { defined } map { $po->readline(8) } 1 .. 3;
$po->close;
is(scalar(@l), 3, 'pipelined slow, fast, PING: three answers');
fields_ok('... the slow one first', $l[0], result => 'ok',
    reason => 'accepted');
fields_ok('... then the fast one', $l[1], result => 'fail',
    reason => 'rejected');
fields_ok('... then the PING', $l[2], result => 'ok', reason => 'pong');

# ---------------------------------------------------------------- distinct

my @req;
for my $i (1 .. 40) {
	my $dom = 'd' . (1 + $i % 10) . '.test';
	push @req, $i % 2 ? "RECIPIENT <r250x$i\@$dom>"
	    : "RECIPIENT <unknown$i\@$dom>";
}
$t0 = time;
@ans = $d->concurrent(10, @req);
my @wrong;
for my $i (0 .. $#req) {
	my $r = parse_response($ans[$i]) // {};
	my ($lp) = $req[$i] =~ /<([^@]+)@/;
	my $want = $lp =~ /^unknown/ ? 'fail rejected' : 'ok accepted';
	my $got = join(' ', $r->{result} // '-', $r->{reason} // '-');
	push @wrong, "$req[$i] -> " . ($ans[$i] // '(none)') if $got ne $want;
	push @wrong, "$req[$i] -> text of another address: $ans[$i]"
	    if $lp =~ /^unknown/ && ($r->{text} // '') !~ /<\Q$lp\E@/;
}
ok(!@wrong, '40 distinct concurrent queries: each gets its own answer')
    or diag(join("\n", @wrong));
cmp_ok(time - $t0, '<', 8, '... all within 8 s');
ok($d->alive, 'savd is still running');

done_testing();
