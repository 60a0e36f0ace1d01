#!/usr/bin/perl
# 35-metrics.t - METRICS, `savctl metrics` and metrics_listen's GET
# /metrics: the framing of the multi-line answer (doc/protocol.md), the
# Prometheus text exposition format (checked against its grammar here, and
# with promtool when it is installed), counters per result and reason, the
# callout histogram, and an HTTP listener that is bounded and never holds
# up the event loop.  Also `savd -V`.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(time);
use Savd qw(:all);

my $savctl = $ENV{SAVCTL} // "$FindBin::Bin/../src/savctl";
BAIL_OUT("$savctl is not built") unless -x $savctl;

sub run {
	my $r = Savd::run_cmd([@_], timeout => 30);
	return ($r->{status} // -1, $r->{out}, $r->{err});
}

# The version configure.ac gives (AC_INIT), which every -V must print.
my ($version) = Savd::slurp("$FindBin::Bin/../configure.ac")
    =~ /AC_INIT\(\[savd\],\s*\[([^\]]+)\]/;

# --- the exposition format's grammar (text format 0.0.4) -------------
my $NAME = qr/[a-zA-Z_:][a-zA-Z0-9_:]*/;
my $LNAME = qr/[a-zA-Z_][a-zA-Z0-9_]*/;
my $LVAL = qr/"(?:[^"\\\n]|\\[\\"n])*"/;
my $LABELS = qr/\{(?:$LNAME=$LVAL(?:,$LNAME=$LVAL)*,?)?\}/;
my $FLOAT = qr/[-+]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|NaN|Inf)/;

# Returns a list of problems (empty when the text is valid) and fills
# %$samples with "name{labels}" => value.
sub check_exposition {
	my ($text, $samples) = @_;
	my (@bad, %type, %help, %seen_family, $current);
	push @bad, 'does not end with LF' unless $text =~ /\n\z/;
	my $n = 0;
	for my $line (split /\n/, $text) {
		$n++;
		if ($line =~ /^# HELP ($NAME) (.*)$/) {
			push @bad, "line $n: second HELP for $1" if $help{$1}++;
			next;
		}
		if ($line =~ /^# TYPE ($NAME) (counter|gauge|histogram|summary|untyped)$/) {
			push @bad, "line $n: second TYPE for $1" if $type{$1};
			push @bad, "line $n: TYPE after samples of $1"
			    if $seen_family{$1};
			$type{$1} = $2;
			next;
		}
		next if $line =~ /^#(?! (?:HELP|TYPE) )/;
		if ($line !~ /^($NAME)($LABELS)? ($FLOAT)(?: -?\d+)?$/) {
			push @bad, "line $n: not a sample: $line";
			next;
		}
		my ($name, $labels, $v) = ($1, $2 // '', $3);
		my $fam = $name;
		$fam =~ s/_(?:bucket|sum|count)$// unless $type{$name};
		push @bad, "line $n: $name has no TYPE" unless $type{$fam};
		push @bad, "line $n: $name is not savd_*" unless $name =~ /^savd_/;
		push @bad, "line $n: samples of $fam are not together"
		    if $seen_family{$fam} && ($current // '') ne $fam;
		push @bad, "line $n: counter $name does not end in _total"
		    if ($type{$fam} // '') eq 'counter' && $name !~ /_total$/;
		my %l;
		while ($labels =~ /($LNAME)=($LVAL)/g) {
			push @bad, "line $n: label $1 twice" if exists $l{$1};
			$l{$1} = $2;
		}
		my $key = $name . '{' . join(',', map { "$_=$l{$_}" }
		    sort keys %l) . '}';
		push @bad, "line $n: duplicate series $key"
		    if exists $samples->{$key};
		$samples->{$key} = $v;
		$seen_family{$fam} = 1;
		$current = $fam;
	}
	# Histograms: cumulative buckets, +Inf = _count, a _sum.
	for my $h (grep { $type{$_} eq 'histogram' } keys %type) {
		my @b = sort { $a->[0] <=> $b->[0] } map {
		    /^\Q$h\E_bucket\{le="([^"]+)"\}$/
		    ? [ $1 eq '+Inf' ? 9**9**9 : $1, $samples->{$_} ] : () }
		    keys %$samples;
		push @bad, "$h: no +Inf bucket"
		    unless @b && $b[-1][0] == 9**9**9;
		for my $i (1 .. $#b) {
			push @bad, "$h: buckets not cumulative at le=$b[$i][0]"
			    if $b[$i][1] < $b[$i - 1][1];
		}
		my $count = $samples->{"${h}_count{}"};
		push @bad, "$h: no _count" unless defined $count;
		push @bad, "$h: no _sum" unless defined $samples->{"${h}_sum{}"};
		push @bad, "$h: +Inf bucket != _count"
		    if @b && defined $count && $b[-1][1] != $count;
	}
	return @bad;
}

# A checker that rejects nothing proves nothing.
{
	my %s;
	ok(check_exposition("savd_x 1\n", \%s) > 0, 'checker: sample without TYPE is refused');
	%s = ();
	ok(check_exposition("# TYPE savd_x gauge\nsavd_x{a=b} 1\n", \%s) > 0,
	    'checker: unquoted label value is refused');
	%s = ();
	ok(check_exposition("# TYPE savd_h histogram\nsavd_h_bucket{le=\"1\"} 2\n"
	    . "savd_h_bucket{le=\"+Inf\"} 1\nsavd_h_sum 1\nsavd_h_count 1\n", \%s) > 0,
	    'checker: non-cumulative buckets are refused');
	%s = ();
	is(join(';', check_exposition("# HELP savd_x X.\n# TYPE savd_x gauge\n"
	    . "savd_x{a=\"q\\\"\"} 1.5e3\n", \%s)), '', 'checker: a good gauge passes');
}

# --- a daemon that has answered from a callout and from the cache ------
my $dns = start_dns("ok.test MX 10 mx.ok.test\nmx.ok.test A 127.0.0.2\n");
my $smtp = start_smtp(listen => ['127.0.0.2']);
my $mport = free_port();
my $d = start_savd(dns => $dns, smtp => $smtp, conf => {
    allow_networks => '127.0.0.2/32', metrics_listen => "127.0.0.1:$mport" });
fields_ok('a callout', $d->query('SENDER <alice@ok.test>'), result => 'ok',
    source => 'callout');
fields_ok('the same from the cache', $d->query('SENDER <alice@ok.test>'),
    result => 'ok', source => 'cache');
fields_ok('a policy answer', $d->query('SENDER <>'), result => 'ok',
    reason => 'null');

# The framing: "result=ok lines=N", N lines, then the next answer.
my $raw = $d->raw("METRICS\nPING\n") // '';
my @l = split /\n/, $raw, -1;
like($l[0], qr/^result=ok lines=(\d+)$/, 'METRICS: first line result=ok lines=N');
my ($nl) = $l[0] =~ /lines=(\d+)/;
$nl //= 0;
ok($nl > 30, "... announces $nl lines");
like($l[$nl + 1], qr/^result=ok reason=pong\b/, '... exactly N lines, then the '
    . 'next request\'s answer in order');
my %s;
my $body = join("\n", @l[1 .. $nl]) . "\n";
is(join("\n", check_exposition($body, \%s)), '', '... the N lines are a valid '
    . 'exposition');
fields_ok('METRICS with an argument is a bad request',
    $d->query('METRICS now'), result => 'error', reason => 'badrequest');

# savctl metrics: the exposition alone (node_exporter textfile collector).
my ($rc, $out) = run($savctl, '-s', $d->sock, '-t', '10', 'metrics');
is($rc, 0, 'savctl metrics exits 0');
unlike($out, qr/^result=/m, '... prints no protocol line');
%s = ();
my @bad = check_exposition($out, \%s);
is(join("\n", @bad), '', '... its output passes the format check');
cmp_ok($s{'savd_verifications_total{reason="accepted",result="ok"}'} // 0,
    '>=', 2, '... ok accepted counted (callout and cache)');
cmp_ok($s{'savd_verifications_total{reason="null",result="ok"}'} // 0, '>=', 1,
    '... ok null counted');
is($s{'savd_verifications_total{reason="rejected",result="fail"}'}, 0,
    '... a pair never answered is there at 0');
cmp_ok($s{'savd_answers_by_source_total{source="callout"}'} // 0, '>=', 1,
    '... answers from callouts');
cmp_ok($s{'savd_answers_by_source_total{source="cache"}'} // 0, '>=', 1,
    '... answers from the cache');
cmp_ok($s{'savd_callout_duration_seconds_count{}'} // 0, '>=', 1,
    '... the callout is in the histogram');
cmp_ok($s{'savd_cache_hits_total{}'} // 0, '>=', 1, '... cache hits');
cmp_ok($s{'savd_cache_entries{}'} // 0, '>=', 1, '... cache entries');
cmp_ok($s{'savd_cache_file_bytes{}'} // 0, '>', 0, '... cache file size');
is($s{'savd_health_status{}'}, 0, '... health status ok');
ok(exists $s{"savd_build_info{version=\"$version\"}"},
    "... build_info carries version $version");
ok(exists $s{'savd_loop_lag_seconds{}'} && exists $s{'savd_blocked_hosts{}'}
    && exists $s{'savd_backed_off_hosts{}'} && exists $s{'savd_inflight{}'},
    '... loop lag, blocked and backed-off hosts, inflight');

SKIP: {
	my ($promtool) = grep { -x "$_/promtool" } split /:/, $ENV{PATH};
	skip 'promtool is not installed (the grammar check above stands in)', 1
	    unless $promtool;
	my $dir = tempdir();
	Savd::spit("$dir/m.prom", $out);
	my $r = Savd::run_cmd(['sh', '-c', "$promtool/promtool check metrics < $dir/m.prom"],
	    timeout => 30);
	is($r->{status}, 0, 'promtool check metrics accepts it') or diag($r->{err});
}

# --- GET /metrics -------------------------------------------------------
# One HTTP exchange; returns (status code, headers, body, seconds, eof).
sub http {
	my ($req, %o) = @_;
	my $t0 = time;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $mport,
	    Proto => 'tcp', Timeout => 5) or return;
	print $s $req if length $req;
	my $r = Savd::read_all($s, $o{timeout} // 10);
	close($s);
	my ($head, $b) = split /\r\n\r\n/, $r->{data} // '', 2;
	my ($code) = ($head // '') =~ m{^HTTP/1\.[01] (\d{3}) };
	return ($code // 0, $head // '', $b // '', time - $t0, $r->{eof});
}

my ($code, $head, $hb, $secs, $eof) =
    http("GET /metrics HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n\r\n");
is($code, 200, 'GET /metrics: 200');
like($head, qr{^HTTP/1\.1 200 OK\r\n}, '... HTTP/1.1 answer to HTTP/1.1');
like($head, qr{\r\nContent-Type: text/plain; version=0\.0\.4}i,
    '... exposition content type');
like($head, qr{\r\nConnection: close(\r|$)}, '... Connection: close');
my ($clen) = $head =~ /\r\nContent-Length: (\d+)/;
is($clen, length($hb), '... Content-Length is the body\'s');
ok($eof, '... and the server closes the connection');
%s = ();
is(join("\n", check_exposition($hb, \%s)), '', '... the body passes the '
    . 'format check');
cmp_ok($s{'savd_verifications_total{reason="accepted",result="ok"}'} // 0,
    '>=', 2, '... the same counters as METRICS');

($code, $head) = http("GET /metrics?x=1 HTTP/1.0\r\n\r\n");
is($code, 200, 'HTTP/1.0 with a query string: 200');
like($head, qr{^HTTP/1\.0 200}, '... answered in HTTP/1.0');
($code) = http("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
is($code, 404, 'another path: 404');
($code) = http("GET /metrics/x HTTP/1.1\r\n\r\n");
is($code, 404, 'a longer path: 404');
($code, $head) = http("POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
is($code, 405, 'POST: 405');
like($head, qr{\r\nAllow: GET(\r|$)}, '... with Allow: GET');
($code) = http("HEAD /metrics HTTP/1.1\r\n\r\n");
is($code, 405, 'HEAD: 405');
($code) = http("hello\r\n\r\n");
is($code, 400, 'not HTTP: 400');
($code) = http("GET /metrics HTTP/2.0\r\n\r\n");
is($code, 400, 'an unknown HTTP version: 400');
($code) = http('GET /metrics HTTP/1.1' . ("\r\nX-Pad: " . 'a' x 100) x 60
    . "\r\n\r\n");
is($code, 431, 'a request head over 4096 bytes: 431');

# A client that says nothing is dropped, and the loop serves meanwhile.
my @idle = map { IO::Socket::INET->new(PeerAddr => '127.0.0.1',
    PeerPort => $mport, Proto => 'tcp') } 1 .. 3;
my $t0 = time;
fields_ok('silent HTTP clients do not hold up verification',
    $d->query('PING', timeout => 2), result => 'ok', reason => 'pong');
cmp_ok(time - $t0, '<', 1, '... PING answered at once');
my $r = Savd::read_all($idle[0], 15);
ok($r->{eof}, 'a silent HTTP client is closed');
cmp_ok($r->{elapsed} // (time - $t0), '<', 10, '... within the 5 s bound');
is($r->{data} // '', '', '... without an answer');
close($_) for @idle;
fields_ok('the daemon is still there', $d->query('PING'), reason => 'pong');
$d->stop;
is(join("\n", Savd::sanitizer_reports()), '', 'no sanitizer reports');

# --- configuration and -V ----------------------------------------------
my $dir = tempdir();
Savd::spit("$dir/bad.conf", "metrics_listen = 127.0.0.1\n");
my $t = Savd::run_cmd([Savd::savd_bin(), '-t', '-c', "$dir/bad.conf"],
    timeout => 10);
isnt($t->{status}, 0, 'metrics_listen without a port: savd -t fails');
like($t->{err}, qr/bad\.conf:1: .*metrics_listen/, '... naming file, line, key');
Savd::spit("$dir/none.conf", "metrics_listen = none\n");
$t = Savd::run_cmd([Savd::savd_bin(), '-t', '-c', "$dir/none.conf"],
    timeout => 10);
is($t->{status}, 0, 'metrics_listen = none is valid');

($rc, $out) = run(Savd::savd_bin(), '-V');
is($rc, 0, 'savd -V exits 0');
is($out, "savd $version\n", "... prints savd $version");
done_testing();
