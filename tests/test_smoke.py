from flask.testing import FlaskClient


def test_healthz_reports_the_live_data_version(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["database"] == "ok"
    assert body["schema_revision"]
    assert len(body["data_version"]) == 12
    assert body["layers"]["municipalities"] >= 1
