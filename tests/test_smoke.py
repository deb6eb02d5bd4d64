def test_home_page_answers(client):
    response = client.get("/")
    assert response.status_code == 200


def test_admin_lists_agencies(login_as):
    client = login_as("admin")
    response = client.get("/agencymodelview/list/?_flt_0_code=S02")
    assert response.status_code == 200
    assert "Sở Nội vụ" in response.get_data(as_text=True)
