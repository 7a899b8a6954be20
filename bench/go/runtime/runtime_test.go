// The Go side of bench/runtime_bench.cpp: the same cases, measured the same
// way, so that bench/run-runtime-bench can print gofer/Go ratios.
// Run: go test -run NONE -bench . -cpu 1,2
package runtime_test

import (
	"net"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Spawn+join of 1,000,000 goroutines, reported per goroutine.
func BenchmarkSpawnJoin(b *testing.B) {
	const n = 1_000_000
	start := time.Now()
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		wg.Add(n)
		for k := 0; k < n; k++ {
			go func() { wg.Done() }()
		}
		wg.Wait()
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N*n), "ns/goroutine")
}

// Unbuffered channel ping-pong: one op is one round trip.
func BenchmarkPingPong(b *testing.B) {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ping <- i
		<-pong
	}
	close(ping)
}

// runtime.Gosched with a partner goroutine that yields too: one op is one
// Gosched of the benchmark goroutine (the same shape as gofer's BM_Yield).
func BenchmarkYield(b *testing.B) {
	var stop int32
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		for atomic.LoadInt32(&stop) == 0 {
			runtime.Gosched()
		}
		wg.Done()
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runtime.Gosched()
	}
	atomic.StoreInt32(&stop, 1)
	wg.Wait()
}

func rssBytes() float64 {
	data, err := readFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, resident int64
	parse2(data, &size, &resident)
	return float64(resident * int64(syscall.Getpagesize()))
}

// RSS growth per parked goroutine with 1,000,000 parked on a channel.
func BenchmarkParkedRSS(b *testing.B) {
	const n = 1_000_000
	for i := 0; i < b.N; i++ {
		runtime.GC()
		debug.FreeOSMemory()
		before := rssBytes()
		block := make(chan struct{})
		var started sync.WaitGroup
		started.Add(n)
		var done sync.WaitGroup
		done.Add(n)
		for k := 0; k < n; k++ {
			go func() {
				started.Done()
				<-block
				done.Done()
			}()
		}
		started.Wait()
		after := rssBytes()
		b.ReportMetric((after-before)/n, "bytes/goroutine")
		close(block)
		done.Wait()
	}
}

// 100,000 goroutines sleeping 10 ms in a loop for 2 s: wake-ups achieved and
// CPU time per wake-up.
func BenchmarkTimerWakeups(b *testing.B) {
	const n = 100_000
	for i := 0; i < b.N; i++ {
		var wakeups int64
		var mu sync.Mutex
		stop := time.Now().Add(2 * time.Second)
		var ru0, ru1 syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
		var wg sync.WaitGroup
		wg.Add(n)
		for k := 0; k < n; k++ {
			go func() {
				var local int64
				for time.Now().Before(stop) {
					time.Sleep(10 * time.Millisecond)
					local++
				}
				mu.Lock()
				wakeups += local
				mu.Unlock()
				wg.Done()
			}()
		}
		wg.Wait()
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
		cpu := float64(syscall.TimevalToNsec(ru1.Utime)-syscall.TimevalToNsec(ru0.Utime)) +
			float64(syscall.TimevalToNsec(ru1.Stime)-syscall.TimevalToNsec(ru0.Stime))
		b.ReportMetric(float64(wakeups), "wakeups")
		b.ReportMetric(cpu/float64(wakeups), "cpu-ns/wakeup")
	}
}

// A keep-alive server's per-request step: a connection's read deadline
// pushed 250 ms ahead of now while nothing waits on it (the same shape as
// gofer's BM_DeadlinePush).
func BenchmarkDeadlinePush(b *testing.B) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
	}
}
