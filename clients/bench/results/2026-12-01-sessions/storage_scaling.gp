set terminal pngcairo size 900,560
set grid
set key top left
set output 'storage_scaling.png'
set title 'History page and catch-up against messages stored in the channel'
set logscale x
set xlabel 'messages stored'
set ylabel 'milliseconds'
plot 'storage_scaling.dat' using 1:2 with linespoints title 'history page of 100, p99', \
     '' using 1:3 with linespoints title 'catch-up of 10,000 missed'
