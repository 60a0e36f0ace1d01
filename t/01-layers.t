#!/usr/bin/perl
# 01-layers.t - the layering of DESIGN.md section 2, read from the #include
# graph of src/*.c and src/*.h:
#   - the pure core (src_libsavdcore_a_SOURCES in Makefile.am) includes no
#     event loop, DNS, TDB, socket, name lookup, syslog, clock or file I/O
#     header, and no project header from outside the core;
#   - a file never includes a header of a higher layer;
#   - the module graph (foo.c + foo.h = module foo) has no cycle;
#   - every file has a layer, so a new file must be placed on purpose.
# Reads sources only: needs no build.
use strict;
use warnings;
use FindBin;
use Test::More;

my $top = "$FindBin::Bin/..";
my $src = "$top/src";

# Layers, highest first.  A module may include its own layer and any layer
# below it.  The pure core is split in three so that its own wrong arrows
# show: the configuration must not know the SMTP dialogue (config.c once
# included session.h for one constant), and the small parts below know
# neither.  Headers without a .c (route.h) are modules too.
my @LAYERS = (
	[ 'main',      qw(main savctl check_savd) ],
	# admin routes SENDER/RECIPIENT to verify.c and reads verify's and
	# callout's statistics for STATS and HEALTH: it sits above both.
	[ 'admin',     qw(admin) ],
	[ 'verify',    qw(verify) ],
	# host.c: callout's table of remote hosts (slots, back-off).
	[ 'callout',   qw(callout host) ],
	# metricsd.c: the metrics_listen HTTP listener, beside the server.
	[ 'server',    qw(server client metricsd) ],
	[ 'resolve',   qw(resolve) ],
	[ 'dns',       qw(dns) ],
	# smtpconn.c: the socket side of a callout (connect, line I/O, timers).
	[ 'smtpconn',  qw(smtpconn) ],
	[ 'cache',     qw(cache cachedump) ],
	[ 'core-dialogue', qw(proto session record mxlist health) ],
	[ 'core-config',   qw(config confval confcheck route) ],
	[ 'core-parts',    qw(address netaddr smtpreply verdict replyclass
	                      ratelimit dnscheck metrics) ],
	[ 'util',      qw(log buf xmalloc) ],
);

# System headers the pure core must not include.  Allowed on purpose:
# <arpa/inet.h> and <netinet/in.h> (inet_pton/inet_ntop and struct
# in6_addr are string <-> bytes conversions: no socket, no lookup, no I/O;
# address.c and netaddr.c parse address literals with them), <idn2.h>
# (IDNA conversion is pure string work), <stdio.h> (snprintf).
my @FORBIDDEN = (
	'ev.h', 'udns.h', 'tdb.h', 'syslog.h',
	'sys/socket.h', 'sys/un.h', 'netdb.h', 'ifaddrs.h', 'resolv.h',
	'poll.h', 'sys/poll.h', 'sys/epoll.h', 'sys/select.h',
	'unistd.h', 'fcntl.h', 'sys/stat.h', 'sys/mman.h', 'dirent.h',
	'signal.h', 'pthread.h', 'sys/random.h',
	'time.h', 'sys/time.h',         # `now` is an argument
	qr{^openssl/}, qr{^hiredis/}, qr{^systemd/},
);
# Exceptions, each with its reason.  netaddr.c fills a struct
# sockaddr_storage for the kernel (netaddr_sockaddr): it needs the type and
# AF_INET6 from <sys/socket.h>, and still opens no socket.
my %ALLOW = ('netaddr.c' => { 'sys/socket.h' => 1 });
# Generated at configure time, in the build tree: not a module.
my %GENERATED = ('autoconf.h' => 1);

# --- the pure core, as Makefile.am builds it
sub core_modules {
	open(my $fh, '<', "$top/Makefile.am") or die "Makefile.am: $!";
	my $text = do { local $/; <$fh> };
	close($fh);
	$text =~ s/\\\n/ /g;
	my %core;
	while ($text =~ /^src_libsavdcore_a_SOURCES\s*\+?=(.*)$/mg) {
		my $list = $1;
		$core{$_} = 1 for $list =~ m{\bsrc/([A-Za-z0-9_-]+)\.[ch]\b}g;
	}
	return %core;
}

# --- every #include of every file in src/
sub includes {
	my ($file) = @_;
	open(my $fh, '<', "$src/$file") or die "$file: $!";
	my @inc;
	while (<$fh>) {
		push @inc, [ $1, $2 ] if /^\s*#\s*include\s*([<"])([^>"]+)[>"]/;
	}
	close($fh);
	return @inc;
}

my %core = core_modules();
ok(%core, 'Makefile.am lists the pure core (src_libsavdcore_a_SOURCES)')
	or BAIL_OUT('cannot find the pure core in Makefile.am');

my %rank;       # module -> position, 0 = highest
my %lname;
for my $i (0 .. $#LAYERS) {
	my ($name, @mods) = @{ $LAYERS[$i] };
	for (@mods) { $rank{$_} = $i; $lname{$_} = $name; }
}

opendir(my $dh, $src) or die "src: $!";
my @files = sort grep { /^[A-Za-z0-9_-]+\.[ch]$/ } readdir($dh);
closedir($dh);
my %exists = map { $_ => 1 } @files;
ok(scalar(@files) > 10, 'src/ has sources') or BAIL_OUT('no sources');

sub stem { my ($f) = @_; $f =~ s/\.[ch]$//; return $f; }

# Every file is placed; core membership and core layers agree.
for my $m (sort { $a cmp $b } keys %{ { map { stem($_) => 1 } @files } }) {
	if (!defined $rank{$m}) {
		fail("src/$m has a layer");
		diag("add $m to \@LAYERS in t/01-layers.t (DESIGN.md section 2)");
		next;
	}
	if ($core{$m}) {
		like($lname{$m}, qr/^(core|util)/,
		    "$m is in the pure core and in a core or util layer");
	} elsif ($lname{$m} =~ /^core/) {
		fail("$m sits in layer $lname{$m} but is not in the pure core");
		diag("list src/$m in src_libsavdcore_a_SOURCES, or move it");
	}
}

# The include graph.
my %edge;       # module -> module -> "file:header"
for my $f (@files) {
	my $m = stem($f);
	my (@sysbad, @projbad, @up);
	for my $inc (includes($f)) {
		my ($kind, $h) = @$inc;
		if ($kind eq '"' && $exists{$h}) {
			my $to = stem($h);
			next if $to eq $m;
			$edge{$m}{$to} //= "$f includes $h";
			push @projbad, $h if $core{$m} && !$core{$to};
			push @up, "$h ($lname{$to})"
			    if defined $rank{$m} && defined $rank{$to}
			    && $rank{$to} < $rank{$m};
			next;
		}
		next if $GENERATED{$h} || !$core{$m} || $ALLOW{$f}{$h};
		push @sysbad, $h
		    if grep { ref $_ ? $h =~ $_ : $h eq $_ } @FORBIDDEN;
	}
	if ($core{$m}) {
		is("@sysbad", '', "$f (pure core) includes no forbidden "
		    . 'system header');
		is("@projbad", '', "$f (pure core) includes only core headers");
	}
	is("@up", '', "$f ("
	    . ($lname{$m} // 'unplaced') . ') includes no higher layer');
}

# No cycles between modules (confval.h <-> config.c was one).
my (%colour, @stack, @cycles);
sub visit {
	my ($m) = @_;
	$colour{$m} = 1;
	push @stack, $m;
	for my $to (sort keys %{ $edge{$m} || {} }) {
		if (($colour{$to} // 0) == 1) {
			my @c = @stack;
			shift @c while $c[0] ne $to;
			push @cycles, join(' -> ', @c, $to) . '  ['
			    . join('; ', map { $edge{$c[$_]}{ ($c[$_ + 1] // $to) } }
			        0 .. $#c) . ']';
		} elsif (!$colour{$to}) {
			visit($to);
		}
	}
	pop @stack;
	$colour{$m} = 2;
}
visit($_) for sort keys %edge;
is(scalar(@cycles), 0, 'no include cycles between modules')
	or diag(join("\n", @cycles));

done_testing();
