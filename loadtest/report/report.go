// Package report shows what an experiment measured, as the command does:
// the table of a comparison, its chart in the terminal, the monitor's lines
// and the summary of a run, the progress of an experiment, the difference
// between two saved comparisons, and a self-contained HTML page of either.
// Each writes to an io.Writer from a loadtest.Result or a
// loadtest.Comparison, so a program that runs experiments from code, or
// reads saved ones, shows them as the command does.
package report
