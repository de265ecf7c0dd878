{{/* Chart name (nameOverride wins). */}}
{{- define "portcullis.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name of the release's objects: fullnameOverride, else the release name when it contains the chart name, else release-chart. */}}
{{- define "portcullis.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "portcullis.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "portcullis.labels" -}}
helm.sh/chart: {{ include "portcullis.chart" . }}
{{ include "portcullis.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: portcullis
{{- end -}}

{{/* Labels that select the server pods (never change them on upgrade: Deployment selectors are immutable). */}}
{{- define "portcullis.selectorLabels" -}}
app.kubernetes.io/name: {{ include "portcullis.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "portcullis.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "portcullis.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The serving certificate Secret (generated, issued by cert-manager, or existing). */}}
{{- define "portcullis.tlsSecretName" -}}
{{- if .Values.certificates.existingSecret -}}
{{- .Values.certificates.existingSecret -}}
{{- else -}}
{{- printf "%s-tls" (include "portcullis.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "portcullis.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* DNS names of the Service, as the API server (service reference) and Gatekeeper (URL) call it. */}}
{{- define "portcullis.dnsNames" -}}
{{- $svc := include "portcullis.fullname" . -}}
{{- $ns := .Release.Namespace -}}
{{- list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) | toJson -}}
{{- end -}}

{{/* The webhooks' namespaceSelector: the exclusion, ANDed with webhook.namespaceSelector. */}}
{{- define "portcullis.namespaceSelector" -}}
{{- $exclude := dict "key" "kubernetes.io/metadata.name" "operator" "NotIn" "values" (append .Values.webhook.excludedNamespaces .Release.Namespace | uniq) -}}
{{- $extra := .Values.webhook.namespaceSelector | default dict -}}
{{- $selector := dict "matchExpressions" (prepend ($extra.matchExpressions | default list) $exclude) -}}
{{- if $extra.matchLabels -}}
{{- $_ := set $selector "matchLabels" $extra.matchLabels -}}
{{- end -}}
{{- toYaml $selector -}}
{{- end -}}

{{/* The resources the webhooks intercept: pods (and their ephemeral containers) and the pod templates of the workload kinds. */}}
{{- define "portcullis.webhookRules" -}}
- apiGroups: [""]
  apiVersions: ["v1"]
  operations: ["CREATE", "UPDATE"]
  resources: ["pods", "replicationcontrollers"]
  scope: Namespaced
- apiGroups: [""]
  apiVersions: ["v1"]
  operations: ["UPDATE"]
  resources: ["pods/ephemeralcontainers"]
  scope: Namespaced
- apiGroups: ["apps"]
  apiVersions: ["v1"]
  operations: ["CREATE", "UPDATE"]
  resources: ["deployments", "replicasets", "statefulsets", "daemonsets"]
  scope: Namespaced
- apiGroups: ["batch"]
  apiVersions: ["v1"]
  operations: ["CREATE", "UPDATE"]
  resources: ["jobs", "cronjobs"]
  scope: Namespaced
{{- end -}}

{{/* The server configuration file (docs/configuration.md): values.config plus the settings other values own. */}}
{{- define "portcullis.config" -}}
{{- $config := deepCopy .Values.config -}}
{{- $webhook := merge (dict "timeoutSeconds" (int .Values.webhook.timeoutSeconds) "failurePolicy" (lower .Values.webhook.failurePolicy) "mutate" .Values.mutate.enabled "gatekeeper" .Values.gatekeeper.enabled) (deepCopy ($config.webhook | default dict)) -}}
{{- $_ := set $config "webhook" $webhook -}}
{{- if .Values.tls.clientCA.secretName -}}
{{- $_ := set $config "tls" (merge (dict "clientCaFile" (printf "/var/run/portcullis/client-ca/%s" .Values.tls.clientCA.key)) ($config.tls | default dict)) -}}
{{- end -}}
{{- if .Values.registryCredentials.defaultDockerConfigSecret -}}
{{- $_ := set $config "registries" (merge (dict "defaultDockerConfig" "/var/run/portcullis/registry/config.json") ($config.registries | default dict)) -}}
{{- end -}}
{{- with .Values.verificationPlugins -}}
{{- if .volume -}}
{{- $_ := set $config "plugins" (dict "directory" "/var/run/portcullis/plugins" "timeoutSeconds" .timeoutSeconds "maxConcurrent" (int .maxConcurrent) "environment" (.environment | default list)) -}}
{{- end -}}
{{- end -}}
{{- $audit := merge (dict "leaseName" (printf "%s-audit" (include "portcullis.fullname" .)) "leaseNamespace" .Release.Namespace) (deepCopy ($config.audit | default dict)) -}}
{{- $_ := set $config "audit" $audit -}}
{{- if gt (int .Values.metrics.port) 0 -}}
{{- $_ := set $config "metrics" (dict "port" (int .Values.metrics.port)) -}}
{{- end -}}
{{- toYaml $config -}}
{{- end -}}

{{/*
Kubernetes 1.21 or later (Chart.yaml's kubeVersion, checked here too so that every renderer and
`helm template --kube-version` refuses older versions): the namespace exclusion relies on the
kubernetes.io/metadata.name label, which the API server sets on every namespace only from 1.21.
*/}}
{{- define "portcullis.requireKubeVersion" -}}
{{- if semverCompare "<1.21.0-0" .Capabilities.KubeVersion.Version -}}
{{- fail (printf "Portcullis needs Kubernetes 1.21 or later, not %s: before 1.21 namespaces lack the kubernetes.io/metadata.name label, so the webhooks could not exclude kube-system and their own namespace (docs/install.md, \"Kubernetes versions\")" .Capabilities.KubeVersion.Version) -}}
{{- end -}}
{{- end -}}

{{/*
"true" when the CRD named .name is not in the cluster, or was installed by this release (so a
CRD Kyverno or Policy Reporter installed is left alone, and ours is kept on upgrade). `helm
template`, which has no cluster, always renders it. Called with (dict "name" NAME "Release" .Release).
*/}}
{{- define "portcullis.crdAbsentOrOurs" -}}
{{- $crd := lookup "apiextensions.k8s.io/v1" "CustomResourceDefinition" "" .name -}}
{{- $release := dig "metadata" "annotations" "meta.helm.sh/release-name" "" $crd -}}
{{- $namespace := dig "metadata" "annotations" "meta.helm.sh/release-namespace" "" $crd -}}
{{- if or (not $crd) (and (eq $release .Release.Name) (eq $namespace .Release.Namespace)) -}}true{{- end -}}
{{- end -}}
