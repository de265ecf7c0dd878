// Command chart-render renders a Helm chart the way `helm template` does, for the subset of Helm
// that charts/portcullis uses. It exists because no helm binary can be installed on the
// development machines (not in Debian, not on npm); Debian does ship Helm's template function
// library (sprig) and the YAML library Helm uses (sigs.k8s.io/yaml, packaged as ghodss/yaml,
// its predecessor with the same code), so the rendering is Helm's own engine logic rebuilt on
// the same libraries (helm.sh/helm/v3/pkg/engine, pkg/strvals, pkg/chartutil, pkg/releaseutil).
//
// Built by scripts/chart/render.sh in GOPATH mode (GO111MODULE=off) with Debian's Go 1.19 and
// /usr/share/gocode/src. Usage:
//
//	chart-render [--name NAME] [--namespace NS] [-f values.yaml]... [--set k=v]... [--set-string k=v]...
//	             [--kube-version 1.20.2] [--api-versions group/version[/Kind]]... [--notes] CHART_DIR
//
// What it does, as helm does it:
//   - Values: the chart's values.yaml, coalesced with each -f file, then --set/--set-string
//     (maps merge deeply, a null override deletes the key). YAML numbers become float64, as in
//     Helm (sigs.k8s.io/yaml goes through JSON); --set integers are int64, as in Helm.
//   - Built-in objects: .Values, .Release (Name, Namespace, Service "Helm", IsInstall true,
//     IsUpgrade false, Revision 1), .Chart (Chart.yaml fields), .Capabilities (KubeVersion,
//     APIVersions.Has, HelmVersion), .Template (Name, BasePath), .Files (Get, GetBytes).
//   - Functions: sprig's TxtFuncMap without env/expandenv, plus toYaml, fromYaml, fromYamlArray,
//     toJson, fromJson, fromJsonArray, include, tpl, required, lookup (an empty map, as
//     `helm template` without a cluster; with --lookup FILE, the objects of that YAML stream
//     stand for the cluster's: by apiVersion, kind, namespace and name, or a list when name is "").
//   - --upgrade renders as `helm upgrade` does (.Release.IsUpgrade true, IsInstall false, Revision 2).
//   - Every file under templates/ is parsed into one template set; files whose name starts with
//     `_` are definitions only; NOTES.txt is not a manifest (printed alone with --notes);
//     missingkey=zero and "<no value>" removed, as Helm does when not --strict.
//   - Output: each rendered document as `---\n# Source: <chart>/templates/<file>\n<doc>`, sorted
//     by Helm's install order of kinds and then by file name; empty documents dropped; every
//     document must parse as YAML.
//
// Not supported (the chart must not use them): subcharts and dependencies, crds/ output
// (--include-crds), .Files.Glob/AsConfig/AsSecrets/Lines, toToml, hooks ordering, --strict,
// values.schema.json validation (done by test/packaging instead), lookup against a real cluster.
// --kube-version below 1.21 also drops policy/v1 from the API versions (helm would discover
// the real ones from the cluster on install).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/ioutil"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"github.com/ghodss/yaml"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// Chart mirrors helm's chart.Metadata (the fields templates read as .Chart.X).
type Chart struct {
	Name        string            `json:"name"`
	Home        string            `json:"home,omitempty"`
	Sources     []string          `json:"sources,omitempty"`
	Version     string            `json:"version"`
	Description string            `json:"description,omitempty"`
	Keywords    []string          `json:"keywords,omitempty"`
	Icon        string            `json:"icon,omitempty"`
	APIVersion  string            `json:"apiVersion"`
	AppVersion  string            `json:"appVersion,omitempty"`
	KubeVersion string            `json:"kubeVersion,omitempty"`
	Type        string            `json:"type,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Deprecated  bool              `json:"deprecated,omitempty"`
}

// VersionSet mirrors chartutil.VersionSet.
type VersionSet []string

// Has reports whether the API version (group/version or group/version/Kind) is available.
func (v VersionSet) Has(apiVersion string) bool {
	for _, x := range v {
		if x == apiVersion {
			return true
		}
	}
	return false
}

// KubeVersion mirrors chartutil.KubeVersion.
type KubeVersion struct {
	Version string
	Major   string
	Minor   string
}

func (k KubeVersion) String() string     { return k.Version }
func (k KubeVersion) GitVersion() string { return k.Version }

type HelmVersion struct{ Version string }

type Capabilities struct {
	KubeVersion KubeVersion
	APIVersions VersionSet
	HelmVersion HelmVersion
}

// Files mirrors helm's engine files: every non-template file of the chart.
type Files map[string][]byte

func (f Files) GetBytes(name string) []byte { return f[name] }
func (f Files) Get(name string) string      { return string(f[name]) }

// The API versions `helm template` assumes without a cluster (a subset of helm's
// DefaultVersionSet: the built-in groups of a current Kubernetes, each also with its kinds).
var defaultAPIVersions = map[string][]string{
	"v1":                              {"ConfigMap", "Namespace", "Pod", "Secret", "Service", "ServiceAccount", "ReplicationController"},
	"apps/v1":                         {"DaemonSet", "Deployment", "ReplicaSet", "StatefulSet"},
	"batch/v1":                        {"CronJob", "Job"},
	"policy/v1":                       {"PodDisruptionBudget"},
	"rbac.authorization.k8s.io/v1":    {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"},
	"admissionregistration.k8s.io/v1": {"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"},
	"apiextensions.k8s.io/v1":         {"CustomResourceDefinition"},
	"networking.k8s.io/v1":            {"Ingress", "IngressClass", "NetworkPolicy"},
	"coordination.k8s.io/v1":          {"Lease"},
	"autoscaling/v2":                  {"HorizontalPodAutoscaler"},
	"storage.k8s.io/v1":               {"StorageClass"},
	"scheduling.k8s.io/v1":            {"PriorityClass"},
}

// Helm's releaseutil.InstallOrder.
var installOrder = []string{
	"PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
	"PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
	"PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole",
	"ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList",
	"RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController",
	"ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob",
	"IngressClass", "Ingress", "APIService",
}

func fatal(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "chart-render: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	var valueFiles, sets, setStrings, apiVersions multiFlag
	name := flag.String("name", "portcullis", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	kubeVersion := flag.String("kube-version", "1.30.0", "Kubernetes version for .Capabilities.KubeVersion")
	notes := flag.Bool("notes", false, "print the rendered NOTES.txt instead of the manifests")
	upgrade := flag.Bool("upgrade", false, "render as helm upgrade does (.Release.IsUpgrade)")
	lookupFile := flag.String("lookup", "", "YAML stream of objects that lookup finds, standing for the cluster's")
	flag.Var(&valueFiles, "f", "values file (repeatable)")
	flag.Var(&valueFiles, "values", "values file (repeatable)")
	flag.Var(&sets, "set", "key=value override (repeatable; helm --set syntax)")
	flag.Var(&setStrings, "set-string", "key=value override kept as a string (repeatable)")
	flag.Var(&apiVersions, "api-versions", "extra API version for .Capabilities.APIVersions (repeatable)")
	flag.Parse()
	if flag.NArg() != 1 {
		fatal("usage: chart-render [flags] CHART_DIR")
	}
	out, err := render(flag.Arg(0), options{
		name: *name, namespace: *namespace, kubeVersion: *kubeVersion, notes: *notes, upgrade: *upgrade,
		valueFiles: valueFiles, sets: sets, setStrings: setStrings, apiVersions: apiVersions, lookupFile: *lookupFile,
	})
	if err != nil {
		fatal("%v", err)
	}
	os.Stdout.WriteString(out)
}

type options struct {
	name, namespace, kubeVersion string
	notes, upgrade               bool
	valueFiles, sets, setStrings []string
	apiVersions                  []string
	lookupFile                   string
}

// readObjects reads the --lookup stream: each document one object (Lists are not flattened).
func readObjects(file string) ([]map[string]interface{}, error) {
	if file == "" {
		return nil, nil
	}
	data, err := ioutil.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var out []map[string]interface{}
	for _, doc := range regexp.MustCompile(`(?m)^---[ \t]*$`).Split(string(data), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		m := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			return nil, fmt.Errorf("%s: %v", file, err)
		}
		if len(m) > 0 {
			out = append(out, m)
		}
	}
	return out, nil
}

// lookupIn answers lookup as the cluster would: the object, or {items: [...]} when name is "".
func lookupIn(objects []map[string]interface{}, apiVersion, kind, namespace, name string) map[string]interface{} {
	var items []interface{}
	for _, o := range objects {
		meta, _ := o["metadata"].(map[string]interface{})
		if o["apiVersion"] != apiVersion || o["kind"] != kind {
			continue
		}
		ns, _ := meta["namespace"].(string)
		if namespace != "" && ns != namespace {
			continue
		}
		if name == "" {
			items = append(items, o)
		} else if meta["name"] == name {
			return o
		}
	}
	if name == "" {
		return map[string]interface{}{"items": items}
	}
	return map[string]interface{}{}
}

func readYAMLMap(file string) (map[string]interface{}, error) {
	data, err := ioutil.ReadFile(file)
	if err != nil {
		return nil, err
	}
	m := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	if m == nil {
		m = map[string]interface{}{}
	}
	return m, nil
}

// coalesce merges src over dst as helm does for user-supplied values: maps merge recursively,
// other values replace, and a nil in src deletes the key.
func coalesce(dst, src map[string]interface{}) map[string]interface{} {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		sm, sok := v.(map[string]interface{})
		dm, dok := dst[k].(map[string]interface{})
		if sok && dok {
			dst[k] = coalesce(dm, sm)
		} else {
			dst[k] = v
		}
	}
	return dst
}

func parseKubeVersion(v string) (KubeVersion, error) {
	v = strings.TrimPrefix(v, "v")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return KubeVersion{}, fmt.Errorf("--kube-version %q: want MAJOR.MINOR[.PATCH]", v)
	}
	if len(parts) == 2 {
		parts = append(parts, "0")
	}
	return KubeVersion{Version: "v" + strings.Join(parts, "."), Major: parts[0], Minor: parts[1]}, nil
}

func render(chartDir string, o options) (string, error) {
	chartBytes, err := ioutil.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return "", err
	}
	var chart Chart
	if err := yaml.Unmarshal(chartBytes, &chart); err != nil {
		return "", fmt.Errorf("Chart.yaml: %v", err)
	}
	if chart.Name == "" || chart.Version == "" {
		return "", errors.New("Chart.yaml: name and version are required")
	}

	values, err := readYAMLMap(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		return "", err
	}
	for _, f := range o.valueFiles {
		m, err := readYAMLMap(f)
		if err != nil {
			return "", err
		}
		values = coalesce(values, m)
	}
	for _, s := range o.sets {
		if err := parseSet(s, values, true); err != nil {
			return "", fmt.Errorf("--set %s: %v", s, err)
		}
	}
	for _, s := range o.setStrings {
		if err := parseSet(s, values, false); err != nil {
			return "", fmt.Errorf("--set-string %s: %v", s, err)
		}
	}

	kv, err := parseKubeVersion(o.kubeVersion)
	if err != nil {
		return "", err
	}
	minor, _ := strconv.Atoi(strings.TrimSuffix(kv.Minor, "+"))
	var versions VersionSet
	for gv, kinds := range defaultAPIVersions {
		if gv == "policy/v1" && kv.Major == "1" && minor < 21 {
			continue
		}
		if gv == "batch/v1" && kv.Major == "1" && minor < 21 {
			kinds = []string{"Job"}
		}
		versions = append(versions, gv)
		for _, k := range kinds {
			versions = append(versions, gv+"/"+k)
		}
	}
	if kv.Major == "1" && minor < 25 {
		versions = append(versions, "policy/v1beta1", "policy/v1beta1/PodDisruptionBudget", "batch/v1beta1", "batch/v1beta1/CronJob")
	}
	versions = append(versions, o.apiVersions...)
	sort.Strings(versions)

	files := Files{}
	templates := map[string]string{}
	err = filepath.Walk(chartDir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(chartDir, p)
		rel = filepath.ToSlash(rel)
		if info.IsDir() {
			if rel == "charts" {
				entries, _ := ioutil.ReadDir(p)
				if len(entries) > 0 {
					return errors.New("subcharts (charts/) are not supported")
				}
			}
			return nil
		}
		data, err := ioutil.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasPrefix(rel, "templates/") {
			templates[chart.Name+"/"+rel] = string(data)
		} else if rel != "Chart.yaml" && rel != "values.yaml" && rel != "values.schema.json" && !strings.HasPrefix(rel, "crds/") {
			files[rel] = data
		}
		return nil
	})
	if err != nil {
		return "", err
	}

	objects, err := readObjects(o.lookupFile)
	if err != nil {
		return "", err
	}
	revision := 1
	if o.upgrade {
		revision = 2
	}
	top := map[string]interface{}{
		"Values": values,
		"Release": map[string]interface{}{
			"Name": o.name, "Namespace": o.namespace, "Service": "Helm",
			"IsInstall": !o.upgrade, "IsUpgrade": o.upgrade, "Revision": revision,
		},
		"Chart":        &chart,
		"Capabilities": &Capabilities{KubeVersion: kv, APIVersions: versions, HelmVersion: HelmVersion{Version: "v3.15.0"}},
		"Files":        files,
	}

	t := template.New("gotpl").Option("missingkey=zero")
	t.Funcs(funcMap(t, objects))
	names := make([]string, 0, len(templates))
	for n := range templates {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, err := t.New(n).Parse(templates[n]); err != nil {
			return "", err
		}
	}

	type manifest struct {
		source, kind, content string
	}
	var manifests []manifest
	notesOut := ""
	for _, n := range names {
		base := path.Base(n)
		if strings.HasPrefix(base, "_") {
			continue
		}
		if strings.HasPrefix(n, chart.Name+"/templates/tests/") {
			continue
		}
		vals := map[string]interface{}{}
		for k, v := range top {
			vals[k] = v
		}
		vals["Template"] = map[string]interface{}{"Name": n, "BasePath": chart.Name + "/templates"}
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, n, vals); err != nil {
			return "", err
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		if base == "NOTES.txt" {
			notesOut = text
			continue
		}
		for _, doc := range splitManifests(text) {
			head := map[string]interface{}{}
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				return "", fmt.Errorf("YAML parse error on %s: %v\n%s", n, err, doc)
			}
			kind, _ := head["kind"].(string)
			manifests = append(manifests, manifest{source: n, kind: kind, content: doc})
		}
	}
	if o.notes {
		return notesOut, nil
	}

	rank := map[string]int{}
	for i, k := range installOrder {
		rank[k] = i
	}
	sort.SliceStable(manifests, func(i, j int) bool { return manifests[i].source < manifests[j].source })
	sort.SliceStable(manifests, func(i, j int) bool {
		a, aok := rank[manifests[i].kind]
		b, bok := rank[manifests[j].kind]
		switch {
		case aok && bok:
			return a < b
		case aok:
			return true
		case bok:
			return false
		default:
			return manifests[i].kind < manifests[j].kind
		}
	})
	var out strings.Builder
	for _, m := range manifests {
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", m.source, m.content)
	}
	return out.String(), nil
}

var sep = regexp.MustCompile(`(?:^|\s*\n)---\s*`)

// splitManifests mirrors releaseutil.SplitManifests: documents separated by `---`, blank ones dropped.
func splitManifests(bigFile string) []string {
	var res []string
	bigFileTmp := strings.TrimSpace(bigFile)
	for _, d := range sep.Split(bigFileTmp, -1) {
		d = strings.TrimSpace(d)
		if d == "" {
			continue
		}
		// A document of comments only renders nothing.
		onlyComments := true
		for _, line := range strings.Split(d, "\n") {
			if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
				onlyComments = false
				break
			}
		}
		if onlyComments {
			continue
		}
		res = append(res, d)
	}
	return res
}

const recursionMaxNums = 1000

func funcMap(t *template.Template, objects []map[string]interface{}) template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	included := map[string]int{}
	f["toYaml"] = func(v interface{}) string {
		data, err := yaml.Marshal(v)
		if err != nil {
			return ""
		}
		return strings.TrimSuffix(string(data), "\n")
	}
	f["fromYaml"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	f["fromYamlArray"] = func(s string) []interface{} {
		a := []interface{}{}
		if err := yaml.Unmarshal([]byte(s), &a); err != nil {
			a = []interface{}{err.Error()}
		}
		return a
	}
	f["toJson"] = func(v interface{}) string {
		data, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		return string(data)
	}
	f["fromJson"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	f["fromJsonArray"] = func(s string) []interface{} {
		a := []interface{}{}
		if err := json.Unmarshal([]byte(s), &a); err != nil {
			a = []interface{}{err.Error()}
		}
		return a
	}
	f["include"] = func(name string, data interface{}) (string, error) {
		if included[name] > recursionMaxNums {
			return "", fmt.Errorf("rendering template has a nested reference name: %s", name)
		}
		included[name]++
		defer func() { included[name]-- }()
		var buf strings.Builder
		err := t.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	f["tpl"] = func(text string, vals interface{}) (string, error) {
		clone, err := t.Clone()
		if err != nil {
			return "", err
		}
		clone, err = clone.New("tpl").Parse(text)
		if err != nil {
			return "", fmt.Errorf("cannot parse template %q: %v", text, err)
		}
		var buf strings.Builder
		if err := clone.Execute(&buf, vals); err != nil {
			return "", fmt.Errorf("error during tpl function execution for %q: %v", text, err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	f["required"] = func(warn string, val interface{}) (interface{}, error) {
		if val == nil {
			return val, errors.New(warn)
		}
		if s, ok := val.(string); ok && s == "" {
			return val, errors.New(warn)
		}
		return val, nil
	}
	f["lookup"] = func(apiversion, kind, namespace, name string) (map[string]interface{}, error) {
		return lookupIn(objects, apiversion, kind, namespace, name), nil
	}
	return f
}

// parseSet applies one --set / --set-string argument (helm's strvals syntax: comma-separated
// key=value pairs, dotted keys, `\.` and `\,` escapes, list indexes name[0], and {a,b} lists).
func parseSet(s string, values map[string]interface{}, typed bool) error {
	for _, pair := range splitUnescaped(s, ',', true) {
		eq := strings.Index(pair, "=")
		if eq < 0 {
			return fmt.Errorf("key %q has no value", pair)
		}
		key, raw := pair[:eq], pair[eq+1:]
		var val interface{}
		if strings.HasPrefix(raw, "{") && strings.HasSuffix(raw, "}") {
			list := []interface{}{}
			inner := raw[1 : len(raw)-1]
			if inner != "" {
				for _, item := range splitUnescaped(inner, ',', false) {
					list = append(list, typedVal(unescape(item), typed))
				}
			}
			val = list
		} else {
			val = typedVal(unescape(raw), typed)
		}
		if err := setPath(values, splitUnescaped(key, '.', false), val); err != nil {
			return err
		}
	}
	return nil
}

func splitUnescaped(s string, sepChar byte, braces bool) []string {
	var parts []string
	var cur strings.Builder
	depth := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			if s[i+1] == sepChar {
				cur.WriteByte(s[i+1])
				i++
				continue
			}
			cur.WriteByte(c)
			continue
		}
		if braces && c == '{' {
			depth++
		}
		if braces && c == '}' && depth > 0 {
			depth--
		}
		if c == sepChar && depth == 0 {
			parts = append(parts, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(c)
	}
	parts = append(parts, cur.String())
	return parts
}

func unescape(s string) string { return strings.ReplaceAll(s, `\,`, ",") }

var intRe = regexp.MustCompile(`^(-?[1-9][0-9]*|0)$`)

func typedVal(v string, typed bool) interface{} {
	if !typed {
		return v
	}
	switch strings.ToLower(v) {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nil
	}
	if intRe.MatchString(v) {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	}
	return v
}

var indexRe = regexp.MustCompile(`^(.*)\[(\d+)\]$`)

func setPath(m map[string]interface{}, keys []string, val interface{}) error {
	key := keys[0]
	if match := indexRe.FindStringSubmatch(key); match != nil {
		name := match[1]
		idx, _ := strconv.Atoi(match[2])
		list, _ := m[name].([]interface{})
		for len(list) <= idx {
			list = append(list, nil)
		}
		if len(keys) == 1 {
			list[idx] = val
		} else {
			child, ok := list[idx].(map[string]interface{})
			if !ok {
				child = map[string]interface{}{}
			}
			if err := setPath(child, keys[1:], val); err != nil {
				return err
			}
			list[idx] = child
		}
		m[name] = list
		return nil
	}
	if len(keys) == 1 {
		if val == nil {
			delete(m, key)
		} else {
			m[key] = val
		}
		return nil
	}
	child, ok := m[key].(map[string]interface{})
	if !ok {
		child = map[string]interface{}{}
		m[key] = child
	}
	return setPath(child, keys[1:], val)
}
