{{/*
Names. Every object is prefixed with the release's full name; per-institution
objects add the institution's short name.
*/}}
{{- define "creditchain.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "creditchain.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of a component: (dict "root" $ "component" "intake" ["institution" name]) */}}
{{- define "creditchain.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- if .institution }}
creditchain.io/institution: {{ .institution }}
{{- end }}
{{- end -}}

{{- define "creditchain.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "creditchain.genesisConfigMap" -}}
{{- if .Values.genesisConfigMap -}}
{{- .Values.genesisConfigMap -}}
{{- else -}}
{{- printf "%s-genesis" (include "creditchain.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "creditchain.natsURL" -}}
{{- if .Values.nats.enabled -}}
{{- printf "nats://%s-nats:4222" (include "creditchain.fullname" .) -}}
{{- else -}}
{{- required "nats.url is required with nats.enabled=false" .Values.nats.url -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding every NATS user's password, a key per user. */}}
{{- define "creditchain.natsUsersSecret" -}}
{{- default (printf "%s-nats-users" (include "creditchain.fullname" .)) .Values.nats.auth.existingSecret -}}
{{- end -}}

{{/*
The NATS users the chart makes passwords for, as JSON: the operator,
intake, each institution's replicator and each recorder's consensus-ledger
(pkg/natsauth names them). Whether one may connect is decided by the
membership in etcd, not here: nats-users writes only the users the current
epoch entitles.
*/}}
{{- define "creditchain.natsUsers" -}}
{{- $users := list "admin" "intake" -}}
{{- range .Values.institutions -}}
{{- $users = append $users (printf "replica-%s" .id) -}}
{{- if .recorder }}{{ $users = append $users (printf "consensus-%s" .id) }}{{ end -}}
{{- end -}}
{{- toJson $users -}}
{{- end -}}

{{/*
The NATS connection of one service (dict "root" $ "user" name): with
authorization, its own user only, the password from the Secret
(Kubernetes expands $(NATS_PASSWORD) from the variable defined before it).
*/}}
{{- define "creditchain.natsEnv" -}}
{{- if .root.Values.nats.auth.enabled }}
{{- $urls := list -}}
{{- range splitList "," (include "creditchain.natsURL" .root) -}}
{{- $u := urlParse (trim .) -}}
{{- $urls = append $urls (printf "%s://%s:$(NATS_PASSWORD)@%s" $u.scheme $.user $u.host) -}}
{{- end }}
- name: NATS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "creditchain.natsUsersSecret" .root }}
      key: {{ .user }}
- name: CREDITCHAIN_NATS
  value: {{ join "," $urls | quote }}
{{- else }}
- name: CREDITCHAIN_NATS
  value: {{ include "creditchain.natsURL" .root | quote }}
{{- end }}
{{- end -}}

{{/* Settings of the nats-users init container and sidecar. */}}
{{- define "creditchain.natsUsersEnv" -}}
- name: CREDITCHAIN_GENESIS
  value: /etc/creditchain/genesis/genesis.json
- name: CREDITCHAIN_ETCD
  value: {{ include "creditchain.etcdEndpoints" . | quote }}
- name: CREDITCHAIN_PASSWORDS
  value: /etc/creditchain/nats-passwords
- name: CREDITCHAIN_OUT
  value: /etc/nats/auth/users.conf
{{- end -}}

{{- define "creditchain.natsUsersMounts" -}}
- {name: genesis, mountPath: /etc/creditchain/genesis, readOnly: true}
- {name: passwords, mountPath: /etc/creditchain/nats-passwords, readOnly: true}
- {name: auth, mountPath: /etc/nats/auth}
{{- end -}}

{{- define "creditchain.etcdEndpoints" -}}
{{- if .Values.etcd.enabled -}}
{{- $f := include "creditchain.fullname" . -}}
{{- $eps := list -}}
{{- range $i := until (int .Values.etcd.replicas) -}}
{{- $eps = append $eps (printf "http://%s-etcd-%d.%s-etcd-headless:2379" $f $i $f) -}}
{{- end -}}
{{- join "," $eps -}}
{{- else -}}
{{- required "etcd.endpoints is required with etcd.enabled=false" .Values.etcd.endpoints -}}
{{- end -}}
{{- end -}}

{{- define "creditchain.intakeURL" -}}
{{- printf "http://%s-intake:%d" (include "creditchain.fullname" .) (int .Values.intake.service.port) -}}
{{- end -}}

{{/* The institution named (dict "root" $ "name" n), failing clearly if none. */}}
{{- define "creditchain.institution" -}}
{{- $found := dict -}}
{{- range .root.Values.institutions -}}
{{- if eq .name $.name -}}{{- $found = . -}}{{- end -}}
{{- end -}}
{{- if not $found -}}{{- fail (printf "no institution named %q in institutions" .name) -}}{{- end -}}
{{- toJson $found -}}
{{- end -}}

{{- define "creditchain.keySecret" -}}
{{- if and .inst.key .inst.key.existingSecret -}}
{{- .inst.key.existingSecret -}}
{{- else -}}
{{- printf "%s-key-%s" (include "creditchain.fullname" .root) .inst.name -}}
{{- end -}}
{{- end -}}

{{/*
Environment that gives a container one database URL of an institution:
(dict "root" $ "inst" inst "db" "replica"|"consensus" "env" "CREDITCHAIN_DATABASE").
With the chart's PostgreSQL the URL is assembled from the generated password
(Kubernetes expands $(PGPASSWORD) from the variable defined before it);
otherwise it comes from a Secret.
*/}}
{{- define "creditchain.databaseEnv" -}}
{{- $f := include "creditchain.fullname" .root -}}
{{- if .root.Values.postgresql.enabled }}
- name: PGPASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ printf "%s-pg-%s" $f .inst.name }}
      key: password
- name: {{ .env }}
  value: {{ printf "postgres://creditchain:$(PGPASSWORD)@%s-pg-%s:5432/%s?sslmode=disable" $f .inst.name .db | quote }}
{{- else }}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ if and .inst.database .inst.database.existingSecret }}{{ .inst.database.existingSecret }}{{ else }}{{ printf "%s-db-%s" $f .inst.name }}{{ end }}
      key: {{ printf "%s-url" .db }}
{{- end }}
{{- end -}}

{{/* Environment every creditchain container shares. */}}
{{- define "creditchain.commonEnv" -}}
- name: CREDITCHAIN_LISTEN
  value: "0.0.0.0:8080"
- name: CREDITCHAIN_GENESIS
  value: /etc/creditchain/genesis/genesis.json
- name: CREDITCHAIN_ETCD
  value: {{ include "creditchain.etcdEndpoints" . | quote }}
- name: CREDITCHAIN_STREAM_REPLICAS
  value: {{ .Values.streams.replicas | quote }}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- if .Values.tracing.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .Values.tracing.otlpEndpoint | quote }}
{{- range $k, $v := .Values.tracing.env }}
- name: {{ $k }}
  value: {{ $v | quote }}
{{- end }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Liveness and readiness on the service's own port. */}}
{{- define "creditchain.probes" -}}
livenessProbe:
  httpGet: {path: /healthz, port: http}
  initialDelaySeconds: {{ .Values.probes.initialDelaySeconds }}
  periodSeconds: {{ .Values.probes.periodSeconds }}
  timeoutSeconds: {{ .Values.probes.timeoutSeconds }}
  failureThreshold: {{ .Values.probes.failureThreshold }}
readinessProbe:
  httpGet: {path: /readyz, port: http}
  initialDelaySeconds: {{ .Values.probes.initialDelaySeconds }}
  periodSeconds: {{ .Values.probes.periodSeconds }}
  timeoutSeconds: {{ .Values.probes.timeoutSeconds }}
  failureThreshold: {{ .Values.probes.failureThreshold }}
{{- end -}}

{{/* Pod anti-affinity between pods of one component (dict "root" $ "component" c). */}}
{{- define "creditchain.affinity" -}}
podAntiAffinity:
{{- if eq .root.Values.antiAffinity "hard" }}
  requiredDuringSchedulingIgnoredDuringExecution:
    - topologyKey: kubernetes.io/hostname
      labelSelector:
        matchLabels:
          {{- include "creditchain.selector" (dict "root" .root "component" .component) | nindent 10 }}
{{- else }}
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "creditchain.selector" (dict "root" .root "component" .component) | nindent 12 }}
{{- end }}
{{- end -}}

{{/* Pod-level settings of a creditchain pod. */}}
{{- define "creditchain.podSpec" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
terminationGracePeriodSeconds: 30
{{- end -}}

{{/* Volumes every creditchain pod mounts: genesis and a writable /tmp. */}}
{{- define "creditchain.volumes" -}}
- name: genesis
  configMap:
    name: {{ include "creditchain.genesisConfigMap" . }}
- name: tmp
  emptyDir: {}
{{- end -}}

{{- define "creditchain.volumeMounts" -}}
- name: genesis
  mountPath: /etc/creditchain/genesis
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- end -}}

{{/* A PodDisruptionBudget for the pods of a component: at most one down at a time. */}}
{{- define "creditchain.pdb" -}}
{{- if .root.Values.podDisruptionBudget.enabled }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "creditchain.fullname" .root }}-{{ .name }}
  labels:
    {{- include "creditchain.labels" .root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      {{- include "creditchain.selector" (dict "root" .root "component" .component "institution" .institution) | nindent 6 }}
{{- end }}
{{- end -}}

{{/* Every label of a component's objects: the release's and the selector's. */}}
{{- define "creditchain.allLabels" -}}
{{ include "creditchain.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- if .institution }}
creditchain.io/institution: {{ .institution }}
{{- end }}
{{- end -}}
