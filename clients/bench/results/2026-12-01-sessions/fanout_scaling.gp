set terminal pngcairo size 900,560
set grid
set key top left
set output 'fanout_scaling.png'
set title 'Saturation fan-out against channel size (10 senders, window 16)'
set logscale x
set xlabel 'members online in the channel'
set ylabel 'deliveries/s'
set y2label 'p99 send→deliver (ms)'
set ytics nomirror
set y2tics
plot 'fanout_scaling.dat' using 1:2 with linespoints title 'deliveries/s', \
     '' using 1:3 axes x1y2 with linespoints title 'p99 (ms)'
