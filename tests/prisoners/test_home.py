import pytest

pytestmark = pytest.mark.django_db


def test_home_page_renders_without_data_and_links_to_staff(client, demo):
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "/admin/" in body
    # No person is shown here: public pages go through the visibility rule (see prisoners.visibility).
    assert "Kalesnikava" not in body
