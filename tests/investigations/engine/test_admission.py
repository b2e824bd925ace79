"""admission-denied: the scenario, renamed copies and variants (the policy changed last, Pod Security,
Kyverno, an unreachable webhook, a webhook's TLS, refusals that are over, quota refusals), message
parsing, job-failed standing down, and the analyzer as a bystander."""

from __future__ import annotations

import json

import pytest

from investigations.engine.analyzers.admission_messages import parse_denial
from tests.investigations.engine.harness import (
    PROJECT_SCENARIOS,
    by_category,
    commands,
    copy_scenario,
    describe,
    edit_cluster,
    find,
    findings,
    other_scenarios,
    root,
    run,
)

CATEGORY = "admission-denied"
VAP = PROJECT_SCENARIOS / "rollout-stuck-report-api-validatingadmissionpolicy-latest-tag"
NEW_RS = "report-api-7f9d8c6b55"


@pytest.mark.parametrize("folder", by_category(CATEGORY), ids=lambda d: d.name)
def test_admission_scenarios_pass(folder):
    result, outcome = run(folder)
    assert outcome.outcome == "pass", describe(folder, result, outcome)
    assert result["root_cause"]["confidence"] >= 0.85
    assert any(r["kind"] == "preventive" for r in result["recommendations"])


def test_admission_renamed(tmp_path):
    folder = copy_scenario(
        VAP,
        tmp_path,
        [
            ("report-api", "invoice-gen"),
            ('"reporting"', '"billing"'),
            ("reporting/", "billing/"),
            ("disallow-latest-tag", "pinned-images-only"),
        ],
    )
    result, outcome = run(folder)
    assert outcome.outcome == "pass", describe(folder, result, outcome)
    assert root(result) == (CATEGORY, ("Deployment", "billing", "invoice-gen"))
    assert "kubectl -n billing rollout undo deployment/invoice-gen --to-revision=7" in commands(result)


def _failed_create(message: str):
    def edit(data):
        for obj in data["items"]:
            if obj["kind"] == "Event" and obj["reason"] == "FailedCreate":
                obj["message"] = message
        rs = find(data, "ReplicaSet", NEW_RS)
        rs["status"]["conditions"][0]["message"] = message
        find(data, "Deployment", "report-api")["status"]["conditions"][1]["message"] = message

    return edit


def test_admission_policy_that_changed_after_the_template_is_named(tmp_path):
    """The template is old, the policy (and its binding) arrived after it: the policy is the change."""
    folder = copy_scenario(VAP, tmp_path)

    def policy_is_newer(data):
        for kind in ("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"):
            for obj in data["items"]:
                if obj["kind"] == kind:
                    obj["metadata"]["creationTimestamp"] = "2025-12-03T15:40:00Z"
                    obj["metadata"]["managedFields"][0]["time"] = "2025-12-03T15:40:00Z"
        find(data, "ReplicaSet", NEW_RS)["metadata"]["creationTimestamp"] = "2025-11-20T10:00:00Z"

    edit_cluster(folder, policy_is_newer)
    result, _outcome = run(folder)
    assert root(result) == (CATEGORY, ("ValidatingAdmissionPolicy", "", "disallow-latest-tag"))
    assert '"validationActions":["Warn","Audit"]' in commands(result)  # the stop-gap, stated as one


def test_admission_pod_security_names_the_namespace_label(tmp_path):
    folder = copy_scenario(VAP, tmp_path)
    message = (
        'Error creating: pods "report-api-7f9d8c6b55-" is forbidden: violates PodSecurity "baseline:latest": '
        'privileged (container "report-api" must not set securityContext.privileged=true)'
    )

    def psa(data):
        _failed_create(message)(data)
        namespace = find(data, "Namespace", "reporting")
        namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = "baseline"
        namespace["metadata"]["managedFields"] = [
            {
                "manager": "kubectl-label",
                "operation": "Update",
                "apiVersion": "v1",
                "time": "2025-12-03T15:50:00Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:labels": {"f:pod-security.kubernetes.io/enforce": {}}}},
            }
        ]
        find(data, "ReplicaSet", NEW_RS)["metadata"]["creationTimestamp"] = "2025-11-20T10:00:00Z"

    edit_cluster(folder, psa)
    result, _outcome = run(folder)
    assert root(result) == (CATEGORY, ("Namespace", "", "reporting"))
    assert "pod-security.kubernetes.io/enforce=baseline" in result["root_cause"]["explanation"]
    assert '"privileged":false' in commands(result)
    assert "pod-security.kubernetes.io/enforce=privileged --overwrite" in commands(result)


def test_admission_kyverno_policy_is_named(tmp_path):
    folder = copy_scenario(VAP, tmp_path)
    message = (
        'Error creating: admission webhook "validate.kyverno.svc-fail" denied the request: \n\nresource '
        "Pod/reporting/ was blocked due to the following policies \n\nrequire-team-label:\n  check-team: "
        "'validation error: label team is required. rule check-team failed at path /metadata/labels/team/'\n"
    )

    def kyverno(data):
        _failed_create(message)(data)
        data["items"].append(
            {
                "apiVersion": "kyverno.io/v1",
                "kind": "ClusterPolicy",
                "metadata": {
                    "name": "require-team-label",
                    "creationTimestamp": "2025-12-03T15:30:00Z",
                    "managedFields": [
                        {
                            "manager": "kubectl-client-side-apply",
                            "operation": "Update",
                            "time": "2025-12-03T15:30:00Z",
                            "fieldsV1": {"f:spec": {}},
                        }
                    ],
                },
                "spec": {"validationFailureAction": "Enforce", "rules": [{"name": "check-team"}]},
            }
        )
        find(data, "ReplicaSet", NEW_RS)["metadata"]["creationTimestamp"] = "2025-11-20T10:00:00Z"

    edit_cluster(folder, kyverno)
    result, _outcome = run(folder)
    assert root(result) == (CATEGORY, ("ClusterPolicy", "", "require-team-label"))
    assert "Kyverno policy require-team-label" in result["root_cause"]["summary"]
    assert '"validationFailureAction":"Audit"' in commands(result)


def _webhook_config(data: dict) -> None:
    data["items"].append(
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": "image-signature-check", "creationTimestamp": "2025-10-01T10:00:00Z"},
            "webhooks": [
                {
                    "name": "verify.images.example.com",
                    "failurePolicy": "Fail",
                    "clientConfig": {
                        "service": {"namespace": "security", "name": "image-verifier", "port": 443}
                    },
                }
            ],
        }
    )


def test_admission_unreachable_webhook_failing_closed(tmp_path):
    folder = copy_scenario(VAP, tmp_path)
    message = (
        'Error creating: Internal error occurred: failed calling webhook "verify.images.example.com": '
        "failed to "
        'call webhook: Post "https://image-verifier.security.svc:443/validate?timeout=10s": no endpoints '
        'available for service "image-verifier"'
    )

    def unreachable(data):
        _webhook_config(data)
        _failed_create(message)(data)

    edit_cluster(folder, unreachable)
    result, _outcome = run(folder)
    assert root(result) == (CATEGORY, ("ValidatingWebhookConfiguration", "", "image-signature-check"))
    assert result["root_cause"]["confidence"] == 0.85
    assert "/webhooks/0/failurePolicy" in commands(result)


def test_admission_webhook_tls_failure_is_a_certificate_problem(tmp_path):
    folder = copy_scenario(VAP, tmp_path)
    message = (
        'Error creating: Internal error occurred: failed calling webhook "verify.images.example.com": '
        "failed to "
        'call webhook: Post "https://image-verifier.security.svc:443/validate?timeout=10s": tls: failed to '
        "verify "
        "certificate: x509: certificate signed by unknown authority"
    )

    def tls(data):
        _webhook_config(data)
        _failed_create(message)(data)

    edit_cluster(folder, tls)
    result, _outcome = run(folder)
    assert root(result) == (
        "certificate-invalid",
        ("ValidatingWebhookConfiguration", "", "image-signature-check"),
    )
    assert not [f for f in findings(folder).findings if f.category == CATEGORY]


def test_admission_refusals_that_are_over_are_not_claimed(tmp_path):
    """The new ReplicaSet created its pods since: its old FailedCreate events explain nothing now."""
    folder = copy_scenario(VAP, tmp_path)

    def recovered(data):
        deployment = find(data, "Deployment", "report-api")
        deployment["status"].update(updatedReplicas=3, availableReplicas=3)
        rs = find(data, "ReplicaSet", NEW_RS)
        rs["spec"]["replicas"] = 3
        rs["status"] = {"replicas": 3, "readyReplicas": 3, "availableReplicas": 3}

    edit_cluster(folder, recovered)
    assert not [f for f in findings(folder).findings if f.category == CATEGORY]


def test_admission_leaves_quota_refusals_to_quota_exceeded(tmp_path):
    folder = copy_scenario(VAP, tmp_path)
    edit_cluster(
        folder,
        _failed_create(
            'Error creating: pods "report-api-7f9d8c6b55-x" is forbidden: exceeded quota: compute, '
            "requested: "
            "requests.memory=1Gi, used: requests.memory=8Gi, limited: requests.memory=8Gi"
        ),
    )
    assert not [f for f in findings(folder).findings if f.category == CATEGORY]


def test_job_failed_stands_down_when_its_pods_were_never_created(tmp_path):
    folder = PROJECT_SCENARIOS / "job-failed-ledger-export-deadline-exceeded"
    copy = copy_scenario(folder, tmp_path)

    def refused(data):
        job = next(
            o
            for o in data["items"]
            if o["kind"] == "Job" and o["metadata"]["name"] == "ledger-export-29430780"
        )
        data["items"] = [
            o
            for o in data["items"]
            if not (o["kind"] == "Pod" and o["metadata"]["name"].startswith("ledger-export-29430780"))
        ]
        job["status"] = {
            k: v for k, v in job["status"].items() if k not in ("active", "succeeded", "failed", "ready")
        }
        data["items"].append(
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {
                    "name": "ledger-export-29430780.refused",
                    "namespace": job["metadata"]["namespace"],
                },
                "involvedObject": {
                    "kind": "Job",
                    "name": job["metadata"]["name"],
                    "namespace": job["metadata"]["namespace"],
                    "uid": job["metadata"]["uid"],
                },
                "reason": "FailedCreate",
                "message": 'Error creating: pods "ledger-export-29430780-" is forbidden: violates '
                'PodSecurity "restricted:latest": runAsNonRoot != true (pod or container '
                '"export" must set securityContext.runAsNonRoot=true)',
                "type": "Warning",
                "count": 12,
            }
        )

    edit_cluster(copy, refused)
    result, _outcome = run(copy)
    assert result["root_cause"]["category"] == CATEGORY
    jobs = [f for f in findings(copy).findings if f.category == "job-failed"]
    assert jobs and all(f.confidence <= 0.5 for f in jobs)


@pytest.mark.parametrize("folder", other_scenarios(CATEGORY), ids=lambda d: d.name)
def test_admission_stays_quiet_elsewhere(folder):
    analysis = findings(folder)
    assert not [
        e for e in analysis.errors if e.startswith(("admission.", "admission_fixes.", "admission_messages."))
    ]
    expected = json.loads((folder / "expected.json").read_text())["root_cause_category"]
    ceiling = 0.35 if expected == "unknown" else 0.6
    assert not [
        (f.summary, f.confidence)
        for f in analysis.findings
        if f.category == CATEGORY and f.confidence >= ceiling
    ]


# -- messages ------------------------------------------------------------------------------------------


def test_parse_denial_gatekeeper_constraint():
    denial = parse_denial(
        'Error creating: admission webhook "validation.gatekeeper.sh" denied the request: '
        '[must-have-owner] you must provide labels: {"owner"}'
    )
    assert denial is not None
    assert (denial.mechanism, denial.engine, denial.policies[0][0]) == (
        "webhook",
        "gatekeeper",
        "must-have-owner",
    )


def test_parse_denial_openshift_scc():
    denial = parse_denial(
        'Error creating: pods "api-1" is forbidden: unable to validate against any security context '
        "constraint: "
        '[provider "restricted-v2": .containers[0].runAsUser: Invalid value: 0: must be in the ranges: '
        "[1000680000, 1000689999]]"
    )
    assert denial is not None and denial.mechanism == "scc"


@pytest.mark.parametrize(
    "message",
    [
        'Error creating: pods "x" is forbidden: exceeded quota: q, requested: pods=1, used: pods=10, '
        "limited: pods=10",
        'Error creating: pods "x" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi',
        'Error creating: pods "x" is forbidden: failed quota: q: must specify limits.memory',
        'Error creating: pods "x" is forbidden: error looking up service account ns/sa: serviceaccount '
        '"sa" not found',
    ],
)
def test_parse_denial_ignores_what_is_not_an_admission_policy(message):
    assert parse_denial(message) is None
