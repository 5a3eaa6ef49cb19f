"""The in-memory connector: the fake tool the engine tests and ``passerelle demo`` run on."""

from app.connectors.memory.connector import DEFAULT_PARTITIONS, MemoryConnector
from app.connectors.memory.faults import Faults, SimulatedCrash

__all__ = ["DEFAULT_PARTITIONS", "Faults", "MemoryConnector", "SimulatedCrash"]
