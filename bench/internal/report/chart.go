package report

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"unicode"
)

// The chart: two panels side by side, requests/s and server CPU µs per request, one
// block of bars per workload and load generator, one bar per server. Bars are scaled
// within their block, whose values are printed beside them.

const (
	fontScale   = 2
	glyphW      = 5 * fontScale
	glyphH      = 7 * fontScale
	advance     = glyphW + fontScale
	panelW      = 700
	labelW      = 175
	barMaxW     = 390
	barH        = 16
	rowH        = 22
	blockHeadH  = 26
	blockGap    = 10
	titleH      = 60
	marginLeft  = 16
	marginRight = 16
)

var (
	white      = color.RGBA{255, 255, 255, 255}
	ink        = color.RGBA{33, 33, 33, 255}
	faint      = color.RGBA{120, 120, 120, 255}
	serverInks = map[string]color.RGBA{
		"gonicorn":    {46, 125, 50, 255},
		"nethttp":     {21, 101, 192, 255},
		"nethttp-h2c": {100, 160, 230, 255},
		"fasthttp":    {239, 108, 0, 255},
		"nbio":        {123, 31, 162, 255},
		"uwsgi":       {198, 40, 40, 255},
	}
	otherInk = color.RGBA{96, 125, 139, 255}
)

type panel struct {
	title  string
	unit   string
	format string
}

// WriteChart draws the PNG chart of rows' load benchmarks to w.
func WriteChart(w io.Writer, rows []Row, caption string) error {
	secs := sections(rows)
	if len(secs) == 0 {
		return fmt.Errorf("report: no load benchmark rows to chart")
	}
	h := titleH
	for _, s := range secs {
		h += blockHeadH + len(s.rows)*rowH + blockGap
	}
	h += 30
	img := image.NewRGBA(image.Rect(0, 0, 2*panelW, h))
	fill(img, img.Bounds(), white)
	drawText(img, marginLeft, 10, caption, ink)
	panels := []panel{
		{"REQUESTS/S - HIGHER IS BETTER", "req/s", "%.0f"},
		{"SERVER CPU MICROSECONDS PER REQUEST - LOWER IS BETTER", "srv-cpu-µs/req", "%.2f"},
	}
	for pi, p := range panels {
		x0 := pi * panelW
		drawText(img, x0+marginLeft, 34, p.title, ink)
		y := titleH
		for _, s := range secs {
			drawText(img, x0+marginLeft, y+6, s.workload+" ("+s.generator+")", faint)
			y += blockHeadH
			top := 0.0
			for _, r := range s.rows {
				if v, ok := r.Metric(p.unit); ok && v > top {
					top = v
				}
			}
			for _, r := range s.rows {
				drawText(img, x0+marginLeft+8, y+2, r.Server, ink)
				if v, ok := r.Metric(p.unit); ok && top > 0 {
					bw := max(int(float64(barMaxW)*v/top), 1)
					c, ok := serverInks[r.Server]
					if !ok {
						c = otherInk
					}
					bx := x0 + labelW
					fill(img, image.Rect(bx, y, bx+bw, y+barH), c)
					drawText(img, bx+bw+6, y+1, fmt.Sprintf(p.format, v), ink)
				}
				y += rowH
			}
			y += blockGap
		}
	}
	fill(img, image.Rect(panelW-1, titleH-8, panelW+1, h-20), color.RGBA{220, 220, 220, 255})
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("report: encoding the chart: %w", err)
	}
	return nil
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

// drawText draws s with its top-left corner at (x, y), upper-cased.
func drawText(img *image.RGBA, x, y int, s string, c color.RGBA) {
	prev := ' '
	for _, r := range s {
		// 'x' stays small only as a ratio's sign after a digit ("1.5x").
		if r != 'µ' && (r != 'x' || !unicode.IsDigit(prev)) {
			r = unicode.ToUpper(r)
		}
		prev = r
		if g, ok := glyphs[r]; ok {
			for gy, line := range g {
				for gx, px := range line {
					if px == '#' {
						fill(img, image.Rect(x+gx*fontScale, y+gy*fontScale, x+(gx+1)*fontScale, y+(gy+1)*fontScale), c)
					}
				}
			}
		}
		x += advance
	}
}
