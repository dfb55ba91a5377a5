set terminal pngcairo size 900,560
set grid
set key top left
set output 'rss_scaling.png'
set title 'Server memory against idle authenticated connections'
set xlabel 'connections'
set ylabel 'server RSS (MiB)'
set y2label 'RSS per connection (KiB)'
set ytics nomirror
set y2tics
plot 'rss_scaling.dat' using 1:2 with linespoints title 'RSS (MiB)', \
     '' using 1:3 axes x1y2 with linespoints title 'per connection (KiB)'
