package export

import (
	"math"
	"strings"
)

// Chart is a chart laid out once, in its own units (Width x Height), and drawn twice: as SVG
// in the HTML report (html/template) and with fpdf's primitives in the PDF. Both renderers draw
// exactly these shapes, so the two reports cannot disagree.
type Chart struct {
	// ID names the chart in a page (ids of its title and description); Desc says in words
	// what it shows, for screen readers (the SVG's <desc>).
	ID, Desc      string
	Title         string
	Width, Height float64
	Rects         []Rect
	Lines         []Line
	Labels        []Label
	Legend        []LegendEntry
}

// Rect is a filled rectangle; Opacity below 1 draws it translucent (window bands).
type Rect struct {
	X, Y, W, H float64
	Fill       string
	Opacity    float64
	Title      string
}

// Line is a stroke.
type Line struct {
	X1, Y1, X2, Y2 float64
	Stroke         string
	Width          float64
}

// Label is a text; Anchor is start, middle or end.
type Label struct {
	X, Y   float64
	Text   string
	Anchor string
	Size   float64
}

// LegendEntry names a colour.
type LegendEntry struct {
	Text    string
	Fill    string
	Opacity float64
}

// Series is one coloured part of every bar.
type Series struct {
	Name   string
	Color  string
	Values []int64
}

// Band is a translucent background span over categories [From, To), in one of Lanes
// horizontal lanes of the plot (Lanes 0 or 1: the full height). One lane per service keeps
// each service's windows apart behind the bars.
type Band struct {
	From, To    float64
	Lane, Lanes int
	Color       string
	Opacity     float64
	Title       string
}

// palette is readable in print and for the common colour-vision deficiencies (Okabe-Ito).
var palette = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"}

const (
	chartW, chartH                           = 720.0, 300.0
	plotLeft, plotRight, plotTop, plotBottom = 64.0, 12.0, 28.0, 46.0
	labelSize                                = 10.0
)

// barChart lays out bars over categories: stacked when stacked, else side by side. bands are
// drawn behind the bars; unit formats the axis values.
func barChart(title string, categories []string, series []Series, bands []Band, stacked bool, unit func(int64) string, legend []LegendEntry) Chart {
	c := Chart{Title: title, Width: chartW, Height: chartH}
	pw, ph := chartW-plotLeft-plotRight, chartH-plotTop-plotBottom
	n := len(categories)
	var maxV int64
	for i := 0; i < n; i++ {
		var sum int64
		for _, s := range series {
			if stacked {
				sum += s.Values[i]
			} else {
				sum = max(sum, s.Values[i])
			}
		}
		maxV = max(maxV, sum)
	}
	top := niceCeil(maxV)
	y := func(v int64) float64 { return plotTop + ph - float64(v)/float64(top)*ph }
	slot := pw / float64(max(n, 1))
	for _, b := range bands {
		x0 := plotLeft + math.Max(0, b.From)*slot
		x1 := plotLeft + math.Min(float64(n), b.To)*slot
		lanes := max(b.Lanes, 1)
		lh := ph / float64(lanes)
		if x1 > x0 {
			c.Rects = append(c.Rects, Rect{X: x0, Y: plotTop + float64(b.Lane)*lh, W: x1 - x0, H: lh, Fill: b.Color, Opacity: b.Opacity, Title: b.Title})
		}
	}
	// Grid and y axis: four steps.
	for i := 0; i <= 4; i++ {
		v := top * int64(i) / 4
		yy := y(v)
		c.Lines = append(c.Lines, Line{X1: plotLeft, Y1: yy, X2: plotLeft + pw, Y2: yy, Stroke: "#D0D0D0", Width: 0.5})
		c.Labels = append(c.Labels, Label{X: plotLeft - 4, Y: yy + 3, Text: unit(v), Anchor: "end", Size: labelSize})
	}
	c.Lines = append(c.Lines, Line{X1: plotLeft, Y1: plotTop + ph, X2: plotLeft + pw, Y2: plotTop + ph, Stroke: "#404040", Width: 1})
	// Bars.
	gap := math.Min(slot*0.15, 6)
	for i := 0; i < n; i++ {
		x := plotLeft + float64(i)*slot + gap/2
		w := slot - gap
		var base int64
		for j, s := range series {
			v := s.Values[i]
			if v == 0 {
				continue
			}
			if stacked {
				c.Rects = append(c.Rects, Rect{X: x, Y: y(base + v), W: w, H: y(base) - y(base+v), Fill: s.Color, Opacity: 1,
					Title: categories[i] + " " + s.Name + ": " + unit(v)})
				base += v
			} else {
				bw := w / float64(len(series))
				c.Rects = append(c.Rects, Rect{X: x + float64(j)*bw, Y: y(v), W: bw, H: y(0) - y(v), Fill: s.Color, Opacity: 1,
					Title: categories[i] + " " + s.Name + ": " + unit(v)})
			}
		}
	}
	// Category labels: as many as fit.
	every := int(math.Ceil(float64(n) * 60 / pw))
	every = max(every, 1)
	for i := 0; i < n; i += every {
		c.Labels = append(c.Labels, Label{X: plotLeft + (float64(i)+0.5)*slot, Y: plotTop + ph + 14, Text: categories[i], Anchor: "middle", Size: labelSize})
	}
	for _, s := range series {
		c.Legend = append(c.Legend, LegendEntry{Text: s.Name, Fill: s.Color, Opacity: 1})
	}
	c.Legend = append(c.Legend, legend...)
	c.Desc = describeChart(categories, c.Legend)
	// Legend under the axis labels.
	x := plotLeft
	for _, l := range c.Legend {
		c.Rects = append(c.Rects, Rect{X: x, Y: chartH - 16, W: 10, H: 10, Fill: l.Fill, Opacity: l.Opacity})
		c.Labels = append(c.Labels, Label{X: x + 14, Y: chartH - 7, Text: l.Text, Anchor: "start", Size: labelSize})
		x += 24 + textWidth(l.Text, labelSize)
	}
	return c
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (at least 4, so four grid steps are
// whole numbers).
func niceCeil(v int64) int64 {
	if v <= 4 {
		return 4
	}
	p := int64(1)
	for p*10 <= v {
		p *= 10
	}
	for _, m := range []int64{1, 2, 4, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// textWidth estimates the width of s at size: Hangul and other wide characters take about a
// full em, Latin about 0.6 of one.
func textWidth(s string, size float64) float64 {
	w := 0.0
	for _, r := range s {
		if r >= 0x1100 {
			w += size
		} else {
			w += size * 0.6
		}
	}
	return w
}

// describeChart is the text alternative of a chart: its categories' span and what each colour
// stands for.
func describeChart(categories []string, legend []LegendEntry) string {
	var b strings.Builder
	if n := len(categories); n > 0 {
		b.WriteString(categories[0])
		if n > 1 {
			b.WriteString(" – " + categories[n-1])
		}
		b.WriteString(": ")
	}
	for i, l := range legend {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(l.Text)
	}
	return b.String()
}
