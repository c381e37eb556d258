#!/usr/bin/perl
# The anchor's side of the cache bench (bench/cache_bench.cpp): Perl's Cache::FastMmap
# (libcache-fastmmap-perl) running the same workload as libshmds, in one process per
# invocation. shmds-bench starts it, pins it, and times nothing itself: this script
# measures its own window on CLOCK_MONOTONIC (the harness's clock), so the C side can
# merge the windows of two processes into one rate exactly as it does for its own.
#
#   cache_fastmmap.pl --file F --op prefill --keys N          create (wipe) and fill F
#   cache_fastmmap.pl --file F --op OP --level xs|api --seconds S --worker K --keys N
#       OP: set | get_hit | get_miss | mixed
#       prints "ready", waits for a line on stdin, runs OP for S seconds, then prints
#       "ops N hits H begin NS end NS bad B" (bad: values read back that are missing or
#       belong to another key, checked after the window)
#
# Levels: "api" calls the Perl methods get/set; "xs" calls what they call, the XS
# functions fc_hash, fc_lock, fc_read / fc_expunge + fc_write, fc_unlock, without the
# object wrapper (the study's "XS-level": Cache::FastMmap's own C speed as Perl reaches it).
# Keys and values are those of the C side: key i is sprintf("%08x%08x", i * 2654435761
# mod 2^32, i) (16 bytes; keys N..2N-1 are never stored), its value the key followed by
# a 16-digit generation (32 bytes).
use strict;
use warnings;
use Cache::FastMmap;
use Getopt::Long;
use Time::HiRes qw(clock_gettime CLOCK_MONOTONIC);

my %o = (keys => 100000, seconds => 1, worker => 0, level => 'xs');
GetOptions(\%o, 'file=s', 'op=s', 'level=s', 'seconds=f', 'worker=i', 'keys=i')
    or die "usage: see the header of $0\n";
die "--file is required\n" unless $o{file};
$| = 1;

my $n = $o{keys};
sub key_of { sprintf('%08x%08x', ($_[0] * 2654435761) % 4294967296, $_[0]) }
my @keys = map { key_of($_) } 0 .. $n - 1;
my @miss = map { key_of($_) } $n .. 2 * $n - 1;

# The anchor's workload: a 64 MiB cache of raw byte values, never expiring, kept after
# exit (its default unlinks a file it created, and the prefilling process creates it).
my $cache = Cache::FastMmap->new(
    share_file => $o{file}, cache_size => '64m', raw_values => 1, expire_time => 0,
    init_file => ($o{op} eq 'prefill' ? 1 : 0), unlink_on_exit => 0, empty_on_exit => 0);
my $C = $cache->{Cache};

sub xs_get {
    my ($page, $slot) = Cache::FastMmap::fc_hash($C, $_[0]);
    Cache::FastMmap::fc_lock($C, $page);
    my ($v, $flags, $found) = Cache::FastMmap::fc_read($C, $slot, $_[0]);
    Cache::FastMmap::fc_unlock($C);
    return $found ? $v : undef;
}
sub xs_set {
    my ($page, $slot) = Cache::FastMmap::fc_hash($C, $_[0]);
    Cache::FastMmap::fc_lock($C, $page);
    Cache::FastMmap::fc_expunge($C, 2, 0, length($_[0]) + length($_[1]));  # as set() does
    my $stored = Cache::FastMmap::fc_write($C, $slot, $_[0], $_[1], -1, 0);
    Cache::FastMmap::fc_unlock($C);
    return $stored;
}

if ($o{op} eq 'prefill') {
    for my $i (0 .. $n - 1) {
        xs_set($keys[$i], $keys[$i] . sprintf('%016x', 0)) or die "prefill: key $i not stored\n";
    }
    exit 0;
}

my $xs = $o{level} eq 'xs';
die "--level is xs or api\n" unless $xs || $o{level} eq 'api';
my $get = $xs ? \&xs_get : sub { $cache->get($_[0]) };
my $set = $xs ? \&xs_set : sub { $cache->set($_[0], $_[1]) };
my $gen = $o{worker} << 40;
my ($hits, $next) = (0, 0);
my %loop = (
    get_hit  => sub { for (1 .. 64) { $hits++ if defined $get->($keys[int(rand($n))]) } },
    get_miss => sub { for (1 .. 64) { $hits++ if defined $get->($miss[int(rand($n))]) } },
    # Keys in order: the first pass stores new keys, later ones overwrite (as the C side).
    set => sub {
        for (1 .. 64) {
            my $k = $keys[$next++ % $n];
            $set->($k, $k . sprintf('%016x', ++$gen));
        }
    },
    mixed => sub {
        for (1 .. 64) {
            my $k = $keys[int(rand($n))];
            if (rand() < 0.1) { $set->($k, $k . sprintf('%016x', ++$gen)) }
            else              { $hits++ if defined $get->($k) }
        }
    },
);
my $op = $loop{$o{op}} or die "unknown --op $o{op}\n";
srand(0x853c49e6 + 7919 * $o{worker});

sub run_for {
    my ($seconds, $body) = @_;
    my $begin = clock_gettime(CLOCK_MONOTONIC);
    my ($until, $ops, $t) = ($begin + $seconds, 0);
    do { $body->(); $ops += 64 } while (($t = clock_gettime(CLOCK_MONOTONIC)) < $until);
    return ($ops, $begin, $t);
}

run_for($o{seconds} / 10, $op) unless $o{op} eq 'set';  # warm-up, as the C side
($hits, $next) = (0, 0);
print "ready\n";
defined(my $go = <STDIN>) or exit 1;
my ($ops, $begin, $end) = run_for($o{seconds}, $op);

# Every value that should be there is there and belongs to its key (not timed).
my $bad = 0;
my $written = $o{op} eq 'set' ? ($next < $n ? $next : $n) : ($o{op} eq 'get_miss' ? 0 : $n);
for my $i (0 .. $written - 1) {
    my $v = $cache->get($keys[$i]);
    $bad++ unless defined $v && length($v) == 32 && substr($v, 0, 16) eq $keys[$i];
}
printf "ops %d hits %d begin %.0f end %.0f bad %d\n", $ops, $hits, $begin * 1e9, $end * 1e9, $bad;
