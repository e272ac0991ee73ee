package main

import (
	"fmt"
	"image/color"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// variantColors gives each variant the same colour in every panel.
var variantColors = map[string]color.Color{
	variantOperator: color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	variantTypical:  color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	variantNoLimit:  color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	variantRaw:      color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
}

// writePlot draws objects Ready over time for the operator and each peer
// in A, A2 and B (every round of B) side by side, as a PNG at path. A
// scenario that did not run has no panel; with none, no file is written.
func writePlot(path string, r *results, quota float64) error {
	var panels []*plot.Plot
	for _, sc := range []struct{ name, title string }{
		{"A", "A: quota %g/s, limiter told"},
		{"A2", "A2: quota %g/s, limiter at 5x"},
		{"B", "B: no quota, %d rounds"},
	} {
		var runs []*measurement
		for _, v := range []string{variantOperator, variantTypical, variantNoLimit, variantRaw} {
			runs = append(runs, r.runsOf(sc.name, v)...)
		}
		if len(runs) == 0 {
			continue
		}
		p, err := convergencePanel(runs)
		if err != nil {
			return err
		}
		if sc.name == "B" {
			p.Title.Text = fmt.Sprintf(sc.title, len(r.runsOf("B", variantOperator)))
		} else {
			p.Title.Text = fmt.Sprintf(sc.title, quota)
			limit := float64(runs[0].Objects) / quota
			line, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: limit, Y: float64(runs[0].Objects)}})
			if err != nil {
				return err
			}
			line.Color = color.Gray{Y: 0x80}
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			p.Add(line)
			p.Legend.Add("quota limit N/Q", line)
		}
		panels = append(panels, p)
	}
	if len(panels) == 0 {
		return nil
	}
	img := vgimg.New(vg.Points(float64(380*len(panels))), vg.Points(320))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: len(panels), PadX: vg.Points(12), PadY: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(6), PadTop: vg.Points(6), PadBottom: vg.Points(6)}
	canvases := plot.Align([][]*plot.Plot{panels}, tiles, dc)
	for i, p := range panels {
		p.Draw(canvases[0][i])
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	return f.Close()
}

// convergencePanel draws one line per run: objects Ready against seconds
// since the first create. Rounds of a variant share its colour and its
// legend entry.
func convergencePanel(runs []*measurement) (*plot.Plot, error) {
	p := plot.New()
	p.X.Label.Text = "seconds since the first create"
	p.Y.Label.Text = "objects Ready"
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	legend := map[string]bool{}
	for _, m := range runs {
		pts := make(plotter.XYs, 0, len(m.ReadyAt)+1)
		pts = append(pts, plotter.XY{X: 0, Y: 0})
		for i, t := range m.ReadyAt {
			// ReadyAt is thinned: point i is the Ready time of object
			// number thinnedIndex(i)+1 to become Ready.
			pts = append(pts, plotter.XY{X: t, Y: float64(thinnedIndex(i, len(m.ReadyAt), m.Ready) + 1)})
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		line.Color = variantColors[m.Variant]
		line.Width = vg.Points(1.5)
		p.Add(line)
		if !legend[m.Variant] {
			legend[m.Variant] = true
			p.Legend.Add(m.Variant, line)
		}
	}
	return p, nil
}
