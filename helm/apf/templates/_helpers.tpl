{{/*
Names, labels and the small facts several templates share. The INI rendering and the secret
guard are in _config.tpl.
*/}}

{{/* The chart name (nameOverride wins). */}}
{{- define "apf.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The object name prefix: fullnameOverride, else the release name when it already contains the
chart name, else "<release>-<chart>". 63 characters at most (DNS label). The StatefulSet's pod
names add "-<ordinal>", so keep release names short.
*/}}
{{- define "apf.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* chart label value: name-version. */}}
{{- define "apf.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels every object carries besides its selector labels (pod templates add those). */}}
{{- define "apf.commonLabels" -}}
helm.sh/chart: {{ include "apf.chart" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: apf
{{- end }}

{{/* Labels of the objects themselves. */}}
{{- define "apf.labels" -}}
{{ include "apf.commonLabels" . }}
app.kubernetes.io/name: {{ include "apf.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Selector labels of the apf instances (immutable in a StatefulSet: never add to them). */}}
{{- define "apf.selectorLabels" -}}
app.kubernetes.io/name: {{ include "apf.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: factory
{{- end }}

{{/* Selector labels of the bundled Redis. */}}
{{- define "apf.redis.selectorLabels" -}}
app.kubernetes.io/name: {{ include "apf.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: redis
{{- end }}

{{/* Name of the headless Service that gives each instance a stable DNS name. */}}
{{- define "apf.headlessName" -}}
{{- printf "%s-headless" (include "apf.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Name of the bundled Redis (StatefulSet, Service, ConfigMap). */}}
{{- define "apf.redis.fullname" -}}
{{- printf "%s-redis" (include "apf.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The ServiceAccount the pods use. */}}
{{- define "apf.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "apf.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The apf image reference: repository@digest, else repository:tag (tag default: appVersion). */}}
{{- define "apf.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The Secret holding admin token and passwords: the user's existing one, or the chart's. */}}
{{- define "apf.secretName" -}}
{{- default (include "apf.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/* Where the secret files are mounted in the apf container. */}}
{{- define "apf.secretsDir" -}}/etc/apf-secrets{{- end }}

{{/*
The keys of the apf Secret the pods need, one per line ("admin-token", "redis-password", …, then
the names of secrets.files). Empty when no secret is needed.
*/}}
{{- define "apf.secretKeys" -}}
{{- if .Values.web.admin.enabled }}
admin-token
{{- end }}
{{- if .Values.redis.auth.enabled }}
redis-password
{{- end }}
{{- if and (not .Values.redis.bundled.enabled) .Values.redis.external.sentinel.hosts .Values.redis.external.sentinel.auth.enabled }}
sentinel-password
{{- end }}
{{- range $name, $_ := .Values.secrets.files }}
{{ $name }}
{{- end }}
{{- end }}

{{/*
Fails the render for contradictory Redis settings, so that a broken release never reaches the
cluster: exactly one of the bundled Redis, an external URL, or Sentinels.
*/}}
{{- define "apf.validateRedis" -}}
{{- $r := .Values.redis }}
{{- $ext := or $r.external.url $r.external.sentinel.hosts }}
{{- if and $r.bundled.enabled $ext }}
{{- fail "redis: the bundled Redis is enabled and redis.external is set; set redis.bundled.enabled=false to use your Redis" }}
{{- end }}
{{- if not (or $r.bundled.enabled $ext) }}
{{- fail "redis: no Redis: enable redis.bundled or set redis.external.url / redis.external.sentinel.hosts" }}
{{- end }}
{{- if and $r.external.url (not (regexMatch "^rediss?://" $r.external.url)) }}
{{- fail "redis.external.url must start with redis:// or rediss://" }}
{{- end }}
{{- if and $r.external.tls.caSecret (not $r.external.sentinel.hosts) (not (hasPrefix "rediss://" $r.external.url)) }}
{{- fail "redis.external.tls.caSecret needs a rediss:// URL" }}
{{- end }}
{{- if and $r.external.tls.clientCert (not $r.external.tls.caSecret) }}
{{- fail "redis.external.tls.clientCert needs redis.external.tls.caSecret (the Secret holding ca.crt, tls.crt and tls.key)" }}
{{- end }}
{{- if and $r.bundled.enabled $r.auth.username }}
{{- fail "redis.auth.username: the bundled Redis has only the default user; leave it empty" }}
{{- end }}
{{- if and $r.bundled.enabled $r.auth.enabled (or (contains "'" $r.auth.password) (contains "\n" $r.auth.password)) }}
{{- fail "redis.auth.password: the bundled Redis takes no single quote or newline in its password" }}
{{- end }}
{{- end }}

{{/* Fails when a secret that must come from values is missing and no existing Secret is named. */}}
{{- define "apf.validateSecrets" -}}
{{- if not .Values.secrets.existingSecret }}
{{- if and .Values.web.admin.enabled (not .Values.web.admin.token) }}
{{- fail "web.admin.enabled needs web.admin.token or secrets.existingSecret (key admin-token)" }}
{{- end }}
{{- if and .Values.redis.auth.enabled (not .Values.redis.auth.password) }}
{{- fail "redis.auth.enabled needs redis.auth.password or secrets.existingSecret (key redis-password)" }}
{{- end }}
{{- if and .Values.redis.external.sentinel.auth.enabled (not .Values.redis.external.sentinel.auth.password) }}
{{- fail "redis.external.sentinel.auth.enabled needs its password or secrets.existingSecret (key sentinel-password)" }}
{{- end }}
{{- else if .Values.secrets.files }}
{{- fail "secrets.files cannot be combined with secrets.existingSecret: put those files in the existing Secret, or mount it through secrets.extraSecretMounts" }}
{{- end }}
{{- range $name, $_ := .Values.secrets.files }}
{{- if has $name (list "admin-token" "redis-password" "sentinel-password" "redis-tls") }}
{{- fail (printf "secrets.files: %q is a name the chart uses itself" $name) }}
{{- end }}
{{- end }}
{{- end }}

{{/* The data of the chart's Secret (base64), in the order of apf.secretKeys. */}}
{{- define "apf.secretData" -}}
{{- if .Values.web.admin.enabled }}
admin-token: {{ .Values.web.admin.token | b64enc | quote }}
{{- end }}
{{- if .Values.redis.auth.enabled }}
redis-password: {{ .Values.redis.auth.password | b64enc | quote }}
{{- end }}
{{- if and (not .Values.redis.bundled.enabled) .Values.redis.external.sentinel.hosts .Values.redis.external.sentinel.auth.enabled }}
sentinel-password: {{ .Values.redis.external.sentinel.auth.password | b64enc | quote }}
{{- end }}
{{- range $name, $content := .Values.secrets.files }}
{{- if not (regexMatch "^[-._a-zA-Z0-9]+$" $name) }}
{{- fail (printf "secrets.files: %q is not a valid file name (letters, digits, '-', '_', '.')" $name) }}
{{- end }}
{{ $name }}: {{ $content | b64enc | quote }}
{{- end }}
{{- end }}

{{/* One volumeClaimTemplate. Arguments: dict "name" "spec" (size, storageClass, accessModes) "root". */}}
{{- define "apf.claimTemplate" -}}
- metadata:
    name: {{ .name }}
    labels:
      {{- include "apf.selectorLabels" .root | nindent 6 }}
  spec:
    accessModes:
      {{- toYaml .spec.accessModes | nindent 6 }}
    {{- with .spec.storageClass }}
    storageClassName: {{ . | quote }}
    {{- end }}
    resources:
      requests:
        storage: {{ .spec.size | quote }}
{{- end }}
