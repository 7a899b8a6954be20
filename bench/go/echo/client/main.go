// The load generator of bench/net/run-echo-bench, used against both echo
// servers (gofer's examples/echo and bench/go/echo/server), so it does the
// same thing, the same way, to each.
//
//	client -addr 127.0.0.1:PORT -mode pingpong -conns 100 -duration 5s -size 64 [-pid SERVER_PID]
//	client -addr 127.0.0.1:PORT -mode idle -conns 10000
//
// pingpong: -conns connections, a goroutine each; each writes a -size byte
// message (stamped with its connection and sequence number), reads the whole
// echo back, checks it byte for byte, and repeats: one message outstanding
// per connection. After -warmup, round trips that start and end inside the
// -duration window are counted and their latency goes into a log-linear
// histogram (1.6% buckets). With -pid, the server's CPU time (utime+stime,
// all threads) over that window is reported too.
//
// idle: opens -conns connections, echoes one message on each (so the server
// has accepted and served every one), prints the JSON line, then holds them
// open until stdin closes or SIGINT/SIGTERM arrives.
//
// Prints one JSON object on stdout; exits 1 on a dial error or when any
// connection failed, was answered wrongly, or got stuck.
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/bits"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ---- latency histogram: values in ns; 64 sub-buckets per power of two ----

const subBits = 6
const sub = 1 << subBits // 64

var hist [sub * 64]uint64 // updated atomically: any GOMAXPROCS

func bucketOf(v uint64) int {
	if v < 2*sub {
		return int(v)
	}
	e := bits.Len64(v) - (subBits + 1)
	return sub*e + int(v>>uint(e))
}

// bucketMid is the middle of bucket i, in ns.
func bucketMid(i int) float64 {
	if i < 2*sub {
		return float64(i)
	}
	e := i/sub - 1
	lo := uint64(i-sub*e) << uint(e)
	return float64(lo) + float64(uint64(1)<<uint(e))/2
}

func record(ns int64) {
	if ns < 0 {
		ns = 0
	}
	atomic.AddUint64(&hist[bucketOf(uint64(ns))], 1)
}

func percentile(q float64, total uint64) float64 {
	if total == 0 {
		return 0
	}
	rank := uint64(q*float64(total) + 0.5)
	if rank < 1 {
		rank = 1
	}
	var cum uint64
	for i := range hist {
		cum += hist[i]
		if cum >= rank {
			return bucketMid(i)
		}
	}
	return 0
}

// ---- helpers ----

// cpuTicks is utime+stime of a process (all its threads), in clock ticks
// (USER_HZ, 100 per second on Linux).
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st, nil
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// raiseNofile lifts the soft fd limit to the hard one (Go 1.19 does this at
// start-up already; this also works on older Go and says when it is short).
func raiseNofile(need int) {
	var r syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r) != nil {
		return
	}
	if r.Cur < r.Max {
		r.Cur = r.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r)
	}
	if r.Cur < uint64(need) {
		fmt.Fprintf(os.Stderr, "client: RLIMIT_NOFILE is %d, %d connections need about %d\n", r.Cur, need-64, need)
	}
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "client: "+format+"\n", a...)
	os.Exit(1)
}

func fillMessage(msg []byte, id int) {
	for i := range msg {
		msg[i] = byte('a' + (i+id)%26)
	}
}

func stamp(msg []byte, id int, seq uint64) {
	if len(msg) >= 8 {
		binary.LittleEndian.PutUint64(msg, uint64(id)<<40|seq)
	}
}

// dialAll opens n connections with `parallel` dialers; each new connection
// is handed to onConn (which may talk on it) before the dialer moves on.
func dialAll(addr string, n, parallel int, onConn func(i int, c net.Conn) error) ([]net.Conn, error) {
	conns := make([]net.Conn, n)
	var next int64 = -1
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	if parallel > n {
		parallel = n
	}
	for w := 0; w < parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := net.Dialer{Timeout: 10 * time.Second}
			for {
				i := int(atomic.AddInt64(&next, 1))
				if i >= n {
					return
				}
				c, err := d.Dial("tcp", addr)
				if err == nil {
					conns[i] = c
					if onConn != nil {
						err = onConn(i, c)
					}
				}
				if err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("connection %d: %w", i, err)
					}
					mu.Unlock()
					atomic.StoreInt64(&next, int64(n)) // stop the other dialers
					return
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
		return nil, first
	}
	return conns, nil
}

// ---- pingpong ----

const (
	phaseWarmup int32 = iota
	phaseMeasure
	phaseStop
)

type connStats struct {
	n      uint64      // round trips inside the window
	err    error       // why the connection stopped early, if it did
	exited atomic.Bool // its goroutine has returned
	_      [32]byte
}

type pingpongResult struct {
	Mode             string  `json:"mode"`
	Conns            int     `json:"conns"`
	Size             int     `json:"size"`
	Seconds          float64 `json:"seconds"`
	RoundTrips       uint64  `json:"round_trips"`
	RPS              float64 `json:"rps"`
	Active           int     `json:"active"` // connections with at least one round trip in the window
	MinPerConn       uint64  `json:"min_per_conn"`
	MaxPerConn       uint64  `json:"max_per_conn"`
	MeanUs           float64 `json:"mean_us"`
	P50Us            float64 `json:"p50_us"`
	P90Us            float64 `json:"p90_us"`
	P99Us            float64 `json:"p99_us"`
	P999Us           float64 `json:"p999_us"`
	MaxUs            float64 `json:"max_us"`
	Errors           int     `json:"errors"`
	FirstError       string  `json:"first_error,omitempty"`
	Stuck            int     `json:"stuck"` // still waiting for an echo 2 s after the window closed
	ServerCPU        float64 `json:"server_cpu_s"`
	ClientCPU        float64 `json:"client_cpu_s"`
	ServerCPUPerRTUs float64 `json:"server_cpu_us_per_rt"`
}

var forced atomic.Bool // deadlines forced on stuck connections: their errors are ours

func pingpong(c net.Conn, id, size int, phase *int32, start <-chan struct{}, st *connStats, maxNs *int64, sumNs *int64) {
	msg := make([]byte, size)
	got := make([]byte, size)
	fillMessage(msg, id)
	var seq, n uint64
	var localMax, localSum int64
	<-start
	for {
		p := atomic.LoadInt32(phase)
		if p == phaseStop {
			break
		}
		seq++
		stamp(msg, id, seq)
		t0 := time.Now()
		if _, err := c.Write(msg); err != nil {
			if !forced.Load() {
				st.err = fmt.Errorf("write: %w", err)
			}
			break
		}
		if _, err := io.ReadFull(c, got); err != nil {
			if !forced.Load() {
				st.err = fmt.Errorf("read: %w", err)
			}
			break
		}
		d := int64(time.Since(t0))
		if !bytes.Equal(msg, got) {
			st.err = fmt.Errorf("echo differs from the message (round trip %d)", seq)
			break
		}
		if p == phaseMeasure && atomic.LoadInt32(phase) == phaseMeasure {
			n++
			record(d)
			localSum += d
			if d > localMax {
				localMax = d
			}
		}
	}
	st.n = n
	st.exited.Store(true)
	atomic.AddInt64(sumNs, localSum)
	for {
		m := atomic.LoadInt64(maxNs)
		if localMax <= m || atomic.CompareAndSwapInt64(maxNs, m, localMax) {
			break
		}
	}
}

func runPingpong(addr string, nconns, size int, warmup, duration time.Duration, pid int) int {
	conns, err := dialAll(addr, nconns, 64, nil)
	if err != nil {
		fail("dial %s: %v", addr, err)
	}
	stats := make([]connStats, nconns)
	var phase int32 = phaseWarmup
	var maxNs, sumNs int64
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func(i int, c net.Conn) {
			defer wg.Done()
			pingpong(c, i, size, &phase, start, &stats[i], &maxNs, &sumNs)
		}(i, c)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	close(start)
	time.Sleep(warmup)
	var s0, s1 int64
	if pid > 0 {
		if s0, err = cpuTicks(pid); err != nil {
			fail("server pid %d: %v", pid, err)
		}
	}
	c0 := selfCPU()
	t0 := time.Now()
	atomic.StoreInt32(&phase, phaseMeasure)
	time.Sleep(duration)
	atomic.StoreInt32(&phase, phaseStop)
	elapsed := time.Since(t0)
	c1 := selfCPU()
	if pid > 0 {
		s1, _ = cpuTicks(pid)
	}

	stuck := 0
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		// Some echo never came back: count the connections still waiting,
		// then break them free.
		for i := range stats {
			if !stats[i].exited.Load() {
				stuck++
			}
		}
		forced.Store(true)
		for _, c := range conns {
			c.SetDeadline(time.Now())
		}
		<-done
	}
	for _, c := range conns {
		c.Close()
	}

	res := pingpongResult{Mode: "pingpong", Conns: nconns, Size: size, Seconds: elapsed.Seconds()}
	res.MinPerConn = ^uint64(0)
	for i := range stats {
		st := &stats[i]
		res.RoundTrips += st.n
		if st.n > 0 {
			res.Active++
		}
		if st.n < res.MinPerConn {
			res.MinPerConn = st.n
		}
		if st.n > res.MaxPerConn {
			res.MaxPerConn = st.n
		}
		if st.err != nil {
			if res.Errors == 0 {
				res.FirstError = st.err.Error()
			}
			res.Errors++
		}
	}
	res.Stuck = stuck
	res.RPS = float64(res.RoundTrips) / elapsed.Seconds()
	if res.RoundTrips > 0 {
		res.MeanUs = float64(sumNs) / float64(res.RoundTrips) / 1e3
	}
	res.P50Us = percentile(0.50, res.RoundTrips) / 1e3
	res.P90Us = percentile(0.90, res.RoundTrips) / 1e3
	res.P99Us = percentile(0.99, res.RoundTrips) / 1e3
	res.P999Us = percentile(0.999, res.RoundTrips) / 1e3
	res.MaxUs = float64(maxNs) / 1e3
	res.ClientCPU = (c1 - c0).Seconds()
	if pid > 0 {
		res.ServerCPU = float64(s1-s0) / 100
		if res.RoundTrips > 0 {
			res.ServerCPUPerRTUs = res.ServerCPU * 1e6 / float64(res.RoundTrips)
		}
	}
	json.NewEncoder(os.Stdout).Encode(&res)
	if res.Errors > 0 || res.Stuck > 0 {
		return 1
	}
	return 0
}

// ---- idle ----

type idleResult struct {
	Mode        string  `json:"mode"`
	Conns       int     `json:"conns"`
	DialSeconds float64 `json:"dial_seconds"`
	Ready       bool    `json:"ready"`
}

func runIdle(addr string, nconns, size int) int {
	t0 := time.Now()
	conns, err := dialAll(addr, nconns, 50, func(i int, c net.Conn) error {
		msg := make([]byte, size)
		got := make([]byte, size)
		fillMessage(msg, i)
		stamp(msg, i, 1)
		c.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := c.Write(msg); err != nil {
			return err
		}
		if _, err := io.ReadFull(c, got); err != nil {
			return err
		}
		if !bytes.Equal(msg, got) {
			return fmt.Errorf("echo differs from the message")
		}
		return c.SetDeadline(time.Time{})
	})
	if err != nil {
		fail("dial %s: %v", addr, err)
	}
	json.NewEncoder(os.Stdout).Encode(&idleResult{Mode: "idle", Conns: nconns,
		DialSeconds: time.Since(t0).Seconds(), Ready: true})

	stop := make(chan struct{}, 2)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() { <-sig; stop <- struct{}{} }()
	go func() { io.Copy(io.Discard, os.Stdin); stop <- struct{}{} }()
	<-stop
	for _, c := range conns {
		c.Close()
	}
	return 0
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "server address (host:port)")
	mode := flag.String("mode", "pingpong", "pingpong or idle")
	nconns := flag.Int("conns", 1, "connections")
	duration := flag.Duration("duration", 5*time.Second, "measured time (pingpong)")
	warmup := flag.Duration("warmup", 500*time.Millisecond, "unmeasured time before it (pingpong)")
	size := flag.Int("size", 64, "message size, bytes")
	pid := flag.Int("pid", 0, "server PID, to report its CPU time over the window (pingpong)")
	flag.Parse()
	if *nconns < 1 || *size < 1 {
		fail("-conns and -size must be positive")
	}
	raiseNofile(*nconns + 64)
	switch *mode {
	case "pingpong":
		os.Exit(runPingpong(*addr, *nconns, *size, *warmup, *duration, *pid))
	case "idle":
		os.Exit(runIdle(*addr, *nconns, *size))
	default:
		fail("unknown -mode %q (pingpong or idle)", *mode)
	}
}
