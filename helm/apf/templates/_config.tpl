{{/*
The configuration files in /etc/apf. Each file of values `config.ini` is a map section → key →
value rendered as INI (the grafana chart's grafana.ini approach); `config.files` gives whole files
verbatim. [Factory] of autopyfactory.conf receives the chart's own keys (Redis, web, state).
A secret put in any of them fails the render: the ConfigMap is readable by anyone who can read
the namespace, so passwords, tokens and keys go through values that feed the Secret.
*/}}

{{/* Key names that hold a secret value (a key naming a file, path or directory is fine). */}}
{{- define "apf.secretKeyPattern" -}}(?i)(password|passwd|passphrase|secret|token|credential|private[-_.]?key|privkey){{- end }}
{{- define "apf.pathKeyPattern" -}}(?i)(file|files|path|dir)${{- end }}
{{/* A URL that carries a password (scheme://user:password@host). */}}
{{- define "apf.urlPasswordPattern" -}}(?i)[a-z][a-z0-9+.-]*://[^/@\s:]*:[^/@\s]+@{{- end }}

{{/* Fails when `key` names a secret value. Arguments: dict "key" "where". */}}
{{- define "apf.assertSecretFreeKey" -}}
{{- if and (regexMatch (include "apf.secretKeyPattern" .) .key) (not (regexMatch (include "apf.pathKeyPattern" .) .key)) }}
{{- fail (printf "%s: %q looks like a secret; the configuration is a ConfigMap: put the secret in secrets.files (or web.admin.token / redis.auth.password) and reference the mounted file (a *_file key)" .where .key) }}
{{- end }}
{{- end }}

{{/* Fails when `text` carries PEM material or a URL with a password. Arguments: dict "text" "where". */}}
{{- define "apf.assertSecretFreeText" -}}
{{- if contains "-----BEGIN" .text }}
{{- fail (printf "%s holds PEM material (a certificate or key): the configuration is a ConfigMap; put it in secrets.files and reference /etc/apf-secrets/<name>" .where) }}
{{- end }}
{{- if regexMatch (include "apf.urlPasswordPattern" .) .text }}
{{- fail (printf "%s holds a URL with a password: the configuration is a ConfigMap; use a password file (redis.auth.password feeds redis.password_file)" .where) }}
{{- end }}
{{- end }}

{{/* [Factory] keys the chart sets from values; setting them in config.ini is an error. */}}
{{- define "apf.managedFactoryKeys" -}}
{{- list "redis.url" "redis.username" "redis.password_file" "redis.tls.ca" "redis.tls.cert" "redis.tls.key" "redis.sentinels" "redis.sentinel.master" "redis.sentinel.password_file" "state.dir" "web.port" "web.admin_token_file" "instance.id" | toJson }}
{{- end }}

{{/*
One INI value. Booleans as True/False (configparser), whole numbers without exponent (values
arrive as float64), lists as comma lists, None for null, strings through `tpl` with newlines as
continuation lines. Arguments: dict "value" "root" "where".
*/}}
{{- define "apf.iniValue" -}}
{{- $v := .value }}
{{- $kind := kindOf $v }}
{{- if eq $kind "bool" }}
{{- ternary "True" "False" $v }}
{{- else if or (eq $kind "float64") (eq $kind "float32") }}
{{- if eq (float64 (int64 $v)) (float64 $v) }}{{ int64 $v }}{{ else }}{{ $v }}{{ end }}
{{- else if hasPrefix "int" $kind }}
{{- $v }}
{{- else if eq $kind "slice" }}
{{- $items := list }}
{{- range $v }}
{{- $items = append $items (include "apf.iniValue" (dict "value" . "root" $.root "where" $.where)) }}
{{- end }}
{{- join ", " $items }}
{{- else if eq $kind "invalid" }}
{{- "None" }}
{{- else if eq $kind "string" }}
{{- $text := tpl $v .root | trimSuffix "\n" }}
{{- include "apf.assertSecretFreeText" (dict "text" $text "where" .where) }}
{{- $text | replace "\n" "\n    " }}
{{- else }}
{{- fail (printf "%s: a value must be a string, number, boolean or list, not a %s (sections hold key = value only)" .where $kind) }}
{{- end }}
{{- end }}

{{/* One [section]. Arguments: dict "name" "keys" "root" "where" "extra" (lines appended). */}}
{{- define "apf.iniSection" -}}
{{- $section := . }}
{{- if not (kindIs "map" .keys) }}
{{- fail (printf "%s must be a map of key: value (an INI section)" .where) }}
{{- end }}
[{{ .name }}]
{{- range $key, $value := .keys }}
{{- $where := printf "%s.%s" $section.where $key }}
{{- include "apf.assertSecretFreeKey" (dict "key" $key "where" $where) }}
{{- if and (eq $section.name "Factory") (has $key (include "apf.managedFactoryKeys" $section.root | fromJsonArray)) }}
{{- fail (printf "%s: %q is set by the chart (values redis.*, web.*, persistence; the instance id is the pod name); remove it from config.ini" $where $key) }}
{{- end }}
{{ $key }} = {{ include "apf.iniValue" (dict "value" $value "root" $section.root "where" $where) }}
{{- end }}
{{- with .extra }}
{{ . }}
{{- end }}
{{- end }}

{{/*
One INI file from a map of sections: [DEFAULT] first, then [Factory], then the others by name.
Arguments: dict "file" "sections" "root".
*/}}
{{- define "apf.iniFile" -}}
{{- $args := . }}
{{- $where := printf "config.ini.%s" .file }}
{{- if not (kindIs "map" .sections) }}
{{- fail (printf "%s must be a map of sections" $where) }}
{{- end }}
{{- $extra := "" }}
{{- if eq .file "autopyfactory.conf" }}
{{- $extra = include "apf.factoryChartKeys" .root }}
{{- end }}
{{- $names := list }}
{{- if hasKey .sections "DEFAULT" }}{{ $names = append $names "DEFAULT" }}{{ end }}
{{- if or (hasKey .sections "Factory") $extra }}{{ $names = append $names "Factory" }}{{ end }}
{{- range $name, $_ := .sections }}
{{- if not (has $name (list "DEFAULT" "Factory")) }}{{ $names = append $names $name }}{{ end }}
{{- end -}}
# {{ .file }}: rendered by the apf Helm chart from values config.ini; change the values, not this file.
{{- range $names }}
{{- $keys := dict }}
{{- if hasKey $args.sections . }}{{ $keys = get $args.sections . }}{{ end }}
{{- if and (eq . "Factory") $extra }}
{{ include "apf.iniSection" (dict "name" . "keys" $keys "root" $args.root "where" (printf "%s.%s" $where .) "extra" $extra) }}
{{- else }}
{{ include "apf.iniSection" (dict "name" . "keys" $keys "root" $args.root "where" (printf "%s.%s" $where .) "extra" "") }}
{{- end }}
{{- end }}
{{- end }}

{{/* The [Factory] lines the chart owns: where Redis, the secrets and the writable paths are. */}}
{{- define "apf.factoryChartKeys" -}}
{{- $r := .Values.redis }}
{{- $secrets := include "apf.secretsDir" . -}}
# --- set by the chart from values redis.*, web.* (do not set them in config.ini) ---
{{- if $r.bundled.enabled }}
redis.url = redis://{{ include "apf.redis.fullname" . }}.{{ .Release.Namespace }}.svc:6379/0
{{- else if $r.external.url }}
redis.url = {{ $r.external.url }}
{{- end }}
{{- with $r.auth.username }}
redis.username = {{ . }}
{{- end }}
{{- if $r.auth.enabled }}
redis.password_file = {{ $secrets }}/redis-password
{{- end }}
{{- if and (not $r.bundled.enabled) $r.external.tls.caSecret }}
redis.tls.ca = {{ $secrets }}/redis-tls/ca.crt
{{- if $r.external.tls.clientCert }}
redis.tls.cert = {{ $secrets }}/redis-tls/tls.crt
redis.tls.key = {{ $secrets }}/redis-tls/tls.key
{{- end }}
{{- end }}
{{- if and (not $r.bundled.enabled) $r.external.sentinel.hosts }}
redis.sentinels = {{ join ", " $r.external.sentinel.hosts }}
redis.sentinel.master = {{ $r.external.sentinel.master }}
{{- if $r.external.sentinel.auth.enabled }}
redis.sentinel.password_file = {{ $secrets }}/sentinel-password
{{- end }}
{{- end }}
state.dir = /var/lib/apf
web.port = {{ .Values.web.port }}
{{- if .Values.web.admin.enabled }}
web.admin_token_file = {{ $secrets }}/admin-token
{{- end }}
{{- end }}

{{/* Fails when a verbatim file has a secret-looking key, PEM material or a URL with a password. */}}
{{- define "apf.assertSecretFreeFile" -}}
{{- $where := printf "config.files.%s" .name }}
{{- include "apf.assertSecretFreeText" (dict "text" .text "where" $where) }}
{{- range regexFindAll "(?m)^[ \\t]*[^#;\\[ \\t\\r\\n][^=:\\r\\n]*[=:]" .text -1 }}
{{- $key := . | trimSuffix "=" | trimSuffix ":" | trim }}
{{- include "apf.assertSecretFreeKey" (dict "key" $key "where" $where) }}
{{- end }}
{{- end }}

{{/*
The ConfigMap's data (YAML): every file of config.ini not replaced by config.files, then the
verbatim files. Also the input of the checksum/config pod annotation, so any change rolls the pods.
*/}}
{{- define "apf.configData" -}}
{{- $root := . }}
{{- $out := dict }}
{{- range $file, $sections := .Values.config.ini }}
{{- if not (regexMatch "^[-._a-zA-Z0-9]+$" $file) }}
{{- fail (printf "config.ini: %q is not a valid file name (letters, digits, '-', '_', '.')" $file) }}
{{- end }}
{{- if and (not (hasKey $root.Values.config.files $file)) (or $sections (eq $file "autopyfactory.conf")) }}
{{- $_ := set $out $file (printf "%s\n" (include "apf.iniFile" (dict "file" $file "sections" ($sections | default dict) "root" $root))) }}
{{- end }}
{{- end }}
{{- range $name, $text := .Values.config.files }}
{{- if not (regexMatch "^[-._a-zA-Z0-9]+$" $name) }}
{{- fail (printf "config.files: %q is not a valid file name (letters, digits, '-', '_', '.')" $name) }}
{{- end }}
{{- include "apf.assertSecretFreeFile" (dict "name" $name "text" $text) }}
{{- $_ := set $out $name $text }}
{{- end }}
{{- if not (hasKey $out "autopyfactory.conf") }}
{{- fail "config: no autopyfactory.conf (config.ini.\"autopyfactory.conf\".Factory or config.files.\"autopyfactory.conf\")" }}
{{- end }}
{{- toYaml $out }}
{{- end }}
