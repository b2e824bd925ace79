{{- define "opsworker-agent.fullname" -}}
{{- printf "%s-%s" .Release.Name "opsworker-agent" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "opsworker-agent.serviceAccountName" -}}
{{- default (include "opsworker-agent.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "opsworker-agent.labels" -}}
app.kubernetes.io/name: opsworker-agent
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "opsworker-agent.selectorLabels" -}}
app.kubernetes.io/name: opsworker-agent
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
