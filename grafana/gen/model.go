package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/gauge"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// The dashboards are described by this small model (board → rows → panels →
// queries), which is turned into Grafana JSON with the foundation SDK and into the
// README's panel → query → metric table. Keeping one model means the README cannot
// list a query the dashboards do not run.

// dsVar is the datasource template variable every panel uses.
const dsVar = "DS_PROMETHEUS"

type board struct {
	file, uid, title, description string
	tags                          []string
	vars                          []variable
	rows                          []row
}

type row struct {
	title  string
	panels []panel
}

type kind int

const (
	timeSeries kind = iota
	statPanel
	gaugePanel
	barGauge
	heatmapPanel
	tablePanel
)

type panel struct {
	kind          kind
	title, desc   string
	unit          string
	width, height uint32 // grid units (24 wide); 0: defaults by kind
	min, max      *float64
	thresholds    []threshold // for stat, gauge, bar gauge: colour steps
	mappings      map[string]string
	queries       []query
}

type threshold struct {
	from  *float64 // nil: from -Inf
	color string
}

type query struct {
	expr, legend string
	instant      bool // table and stat of "now" values
	format       prometheus.PromQueryFormat
}

type variable struct {
	name, label string
	query       string // label_values(...)
	multi       bool   // multi-value with an All option
}

// Every metric a query uses must be written with a selector, name{...}, so that
// metricRef finds all of them (TestQueriesNameEveryMetricWithSelector checks).
var metricRef = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)\{`)

// metrics returns the metric names expr selects, sorted, without duplicates.
func metrics(expr string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range metricRef.FindAllStringSubmatch(expr, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	sort.Strings(out)
	return out
}

var varRef = regexp.MustCompile(`label_values\(([a-zA-Z_:][a-zA-Z0-9_:]*)`)

func ptr[T any](v T) *T { return cog.ToPtr(v) }

func datasource() common.DataSourceRef {
	return common.DataSourceRef{Type: ptr("prometheus"), Uid: ptr("${" + dsVar + "}")}
}

// build renders b as Grafana dashboard JSON.
func (b board) build() ([]byte, error) {
	db := dashboard.NewDashboardBuilder(b.title).
		Uid(b.uid).
		Description(b.description).
		Tags(append([]string{"cairn"}, b.tags...)).
		Editable().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Refresh("30s").
		Time("now-1h", "now").
		Timezone(common.TimeZoneBrowser).
		WithVariable(dashboard.NewDatasourceVariableBuilder(dsVar).
			Label("Prometheus").
			Type("prometheus"))
	for _, v := range b.vars {
		vb := dashboard.NewQueryVariableBuilder(v.name).
			Label(v.label).
			Query(dashboard.StringOrMap{String: ptr(v.query)}).
			Definition(v.query).
			Datasource(datasource()).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			Sort(dashboard.VariableSortAlphabeticalAsc)
		if v.multi {
			vb = vb.Multi(true).IncludeAll(true).Current(dashboard.VariableOption{
				Selected: ptr(true),
				Text:     dashboard.StringOrArrayOfString{ArrayOfString: []string{"All"}},
				Value:    dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}},
			})
		}
		db = db.WithVariable(vb)
	}
	// Lay the panels out left to right, wrapping to a new line when the next one
	// does not fit in the 24-unit grid; each row starts a new line.
	id, x, y, lineH := uint32(0), uint32(0), uint32(0), uint32(0)
	for _, r := range b.rows {
		if x > 0 {
			x, y, lineH = 0, y+lineH, 0
		}
		id++
		db = db.WithRow(dashboard.NewRowBuilder(r.title).Id(id).GridPos(dashboard.GridPos{X: 0, Y: y, W: 24, H: 1}))
		y++
		for _, p := range r.panels {
			w, h := p.size()
			if x+w > 24 {
				x, y, lineH = 0, y+lineH, 0
			}
			id++
			pb, err := p.builder(id, dashboard.GridPos{X: x, Y: y, W: w, H: h})
			if err != nil {
				return nil, fmt.Errorf("%s / %s: %w", b.title, p.title, err)
			}
			db = db.WithPanel(pb)
			x += w
			lineH = max(lineH, h)
		}
	}
	d, err := db.Build()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.title, err)
	}
	out, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

func (p panel) size() (w, h uint32) {
	w, h = p.width, p.height
	if w == 0 {
		switch p.kind {
		case statPanel, gaugePanel:
			w = 4
		case tablePanel:
			w = 24
		default:
			w = 12
		}
	}
	if h == 0 {
		switch p.kind {
		case statPanel, gaugePanel:
			h = 4
		default:
			h = 8
		}
	}
	return w, h
}

func (p panel) targets() []cog.Builder[variants.Dataquery] {
	var out []cog.Builder[variants.Dataquery]
	for i, q := range p.queries {
		t := prometheus.NewDataqueryBuilder().
			Datasource(datasource()).
			RefId(string(rune('A' + i))).
			Expr(q.expr)
		if q.legend != "" {
			t = t.LegendFormat(q.legend)
		}
		if q.instant {
			t = t.Instant()
		} else {
			t = t.Range()
		}
		if q.format != "" {
			t = t.Format(q.format)
		}
		out = append(out, t)
	}
	return out
}

func (p panel) thresholdsConfig() *dashboard.ThresholdsConfigBuilder {
	steps := []dashboard.Threshold{{Color: "green"}}
	if len(p.thresholds) > 0 {
		steps = nil
		for _, t := range p.thresholds {
			steps = append(steps, dashboard.Threshold{Value: t.from, Color: t.color})
		}
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(steps)
}

func (p panel) valueMappings() []dashboard.ValueMapping {
	if len(p.mappings) == 0 {
		return nil
	}
	opts := map[string]dashboard.ValueMappingResult{}
	i := int32(0)
	keys := make([]string, 0, len(p.mappings))
	for k := range p.mappings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		text, color, _ := strings.Cut(p.mappings[k], ":")
		opts[k] = dashboard.ValueMappingResult{Text: ptr(text), Color: ptr(color), Index: ptr(i)}
		i++
	}
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: opts}}}
}

// builder turns p into an SDK panel builder. The builders of the panel types share
// no interface, hence one case per type with the same calls.
func (p panel) builder(id uint32, pos dashboard.GridPos) (cog.Builder[dashboard.Panel], error) {
	switch p.kind {
	case timeSeries:
		b := timeseries.NewPanelBuilder().Id(id).Title(p.title).Description(p.desc).
			Datasource(datasource()).Targets(p.targets()).GridPos(pos).Unit(p.unit).
			FillOpacity(10).ShowPoints(common.VisibilityModeNever).
			Legend(common.NewVizLegendOptionsBuilder().ShowLegend(true).
				DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom)).
			Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending))
		if p.min != nil {
			b = b.Min(*p.min)
		}
		if p.max != nil {
			b = b.Max(*p.max)
		}
		return b, nil
	case statPanel:
		b := stat.NewPanelBuilder().Id(id).Title(p.title).Description(p.desc).
			Datasource(datasource()).Targets(p.targets()).GridPos(pos).Unit(p.unit).
			Thresholds(p.thresholdsConfig()).Mappings(p.valueMappings()).
			ColorMode(common.BigValueColorModeValue).GraphMode(common.BigValueGraphModeArea).
			Orientation(common.VizOrientationAuto).
			ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}))
		return b, nil
	case gaugePanel:
		b := gauge.NewPanelBuilder().Id(id).Title(p.title).Description(p.desc).
			Datasource(datasource()).Targets(p.targets()).GridPos(pos).Unit(p.unit).
			Thresholds(p.thresholdsConfig()).Orientation(common.VizOrientationAuto).
			ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}))
		if p.min != nil {
			b = b.Min(*p.min)
		}
		if p.max != nil {
			b = b.Max(*p.max)
		}
		return b, nil
	case barGauge:
		b := bargauge.NewPanelBuilder().Id(id).Title(p.title).Description(p.desc).
			Datasource(datasource()).Targets(p.targets()).GridPos(pos).Unit(p.unit).
			Thresholds(p.thresholdsConfig()).Orientation(common.VizOrientationHorizontal).
			DisplayMode(common.BarGaugeDisplayModeGradient).
			ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}))
		if p.min != nil {
			b = b.Min(*p.min)
		}
		if p.max != nil {
			b = b.Max(*p.max)
		}
		return b, nil
	case heatmapPanel:
		b := heatmap.NewPanelBuilder().Id(id).Title(p.title).Description(p.desc).
			Datasource(datasource()).Targets(p.targets()).GridPos(pos).
			Calculate(false).
			Color(heatmap.NewHeatmapColorOptionsBuilder().Mode(heatmap.HeatmapColorModeScheme).
				Scheme("Spectral").Scale(heatmap.HeatmapColorScaleExponential).Exponent(0.5).Steps(64).Fill("dark-orange")).
			YAxis(heatmap.NewYAxisConfigBuilder().Unit(p.unit)).
			CellGap(1).
			RowsFrame(heatmap.NewRowsHeatmapOptionsBuilder().Layout(common.HeatmapCellLayoutLe))
		return b, nil
	case tablePanel:
		b := table.NewPanelBuilder().Id(id).Title(p.title).Description(p.desc).
			Datasource(datasource()).Targets(p.targets()).GridPos(pos).Unit(p.unit).
			Mappings(p.valueMappings()).Thresholds(p.thresholdsConfig()).
			WithTransformation(dashboard.DataTransformerConfig{
				Id:      "merge",
				Options: map[string]any{},
			}).
			WithTransformation(dashboard.DataTransformerConfig{
				Id:      "organize",
				Options: map[string]any{"excludeByName": map[string]any{"Time": true}},
			})
		return b, nil
	}
	return nil, fmt.Errorf("unknown panel kind %d", p.kind)
}
