"""A server's lead re-indexing in a child process: the save returns, the child writes the
index, and the server's own search finds the lead once its copies see the child's rebuild."""

from __future__ import annotations

import time

from knowledge.leads import Lead


def test_a_lead_saved_in_a_server_is_indexed_by_the_child(services_factory, fixture_kb) -> None:  # type: ignore[no-untyped-def]
    services = services_factory()
    services.ingestor().ingest([fixture_kb])
    services.index_in_child = True
    try:
        lead = services.leads.create(
            Lead(company="Nordlicht Photonics GmbH", node="munich", sectors=["semiconductors"],
                 summary="Photonic chips for lidar, looking for a pilot line.", language="en"),
            "test:partner",
        )  # fmt: skip
        assert services.flush_indexing(timeout=240)
        deadline = time.monotonic() + 10  # the copies check the child's stamp every ~2 s
        found: list[str] = []
        while time.monotonic() < deadline and lead.id not in found:
            hits = services.search("Nordlicht Photonics lidar", role="manager", k=5)
            found = [str(h.metadata.get("doc_id")) for h in hits]
            time.sleep(0.5)
        assert lead.id in found
    finally:
        services.close()
