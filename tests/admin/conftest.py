"""An organisation tree with administrators at different scopes.

VLN  (Vilnius municipality)          KRA (Kraków, another partner)
└── VLN-SCH (a school)               └── KRA-LIB
    └── VLN-SCH-1 (its branch)
VLN-LIB (a library)
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest


@pytest.fixture
def world(make_org, make_user):
    vln = make_org("VLN", name="Vilniaus savivaldybė")
    sch = make_org("VLN-SCH", parent=vln, name="Mokykla")
    branch = make_org("VLN-SCH-1", parent=sch, name="Mokyklos skyrius")
    lib = make_org("VLN-LIB", parent=vln, name="Biblioteka")
    kra = make_org("KRA", name="Kraków")
    kra_lib = make_org("KRA-LIB", parent=kra, name="Biblioteka Kraków")
    return SimpleNamespace(
        vln=vln,
        sch=sch,
        branch=branch,
        lib=lib,
        kra=kra,
        kra_lib=kra_lib,
        network=make_user(
            "admin", org=vln, email="net@example.org", network=True, name="Net Admin"
        ),
        school_admin=make_user(
            "admin", org=sch, email="sch-admin@example.org", name="School Admin"
        ),
        kra_admin=make_user("admin", org=kra, email="kra-admin@example.org", name="Kraków Admin"),
        pupil=make_user(org=branch, email="ona@example.org", name="Ona Žemaitė"),
        librarian=make_user(org=lib, email="lib@example.org", name="Liudas Biblis"),
        krakow=make_user(org=kra_lib, email="zofia@example.org", name="Zofia Łącka"),
    )
