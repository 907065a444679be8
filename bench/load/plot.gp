# The load report's plots (bench/README.md "Load scenarios"), from the .dat files report.py writes.
# Saturated runs are left out by report.py, so a line that stops early shows where saturation began.
# Run: gnuplot -e "dir='bench/results'" bench/load/plot.gp  ->  dir/latency.png, dir/cpu_per_call.png
if (!exists("dir")) dir = "bench/results"
set terminal pngcairo size 900,540 font "sans,10" noenhanced
set datafile missing "?"
set grid
set key below box opaque
set xrange [80:2500]
set logscale x
set xtics (100, 200, 500, 1000, 2000, 4000)
set xlabel "concurrent AI calls"

set output dir."/latency.png"
set title "Latency warmline adds, by concurrency (epoll build, 8 kHz agent; < 1 µs drawn at 1 µs)"
set ylabel "µs"
set logscale y
plot dir."/latency.dat" using 1:2 with linespoints lw 2 pt 7 title "caller→AI p50", \
     ""                using 1:3 with linespoints lw 2 pt 7 dt 2 title "caller→AI p99", \
     ""                using 1:4 with linespoints lw 2 pt 5 title "AI→caller beyond the 20 ms tick p50", \
     ""                using 1:5 with linespoints lw 2 pt 5 dt 2 title "AI→caller beyond the 20 ms tick p99", \
     200 with lines lc rgb "#888888" dt 3 title "goal p50 (200 µs)", \
     1000 with lines lc rgb "#444444" dt 3 title "goal p99 (1 ms)"

set output dir."/cpu_per_call.png"
set title "CPU per call by concurrency (% of one core)"
set ylabel "% of a core per call"
unset logscale y
set yrange [0:*]
plot dir."/cpu.dat" using 1:2 with linespoints lw 2 pt 7 title "warmline (epoll), AI call", \
     ""            using 1:3 with linespoints lw 2 pt 5 title "warmline (io_uring), AI call", \
     ""            using 1:4 with linespoints lw 2 pt 9 title "rtpengine userspace, relaying the same RTP", \
     0.1 with lines lc rgb "#888888" dt 3 title "goal (0.1 %)"
