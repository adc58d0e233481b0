import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The repo is the collection ganeti_gluster.cluster, reachable under collections/.
sys.path.insert(0, str(REPO / "collections"))
sys.path.insert(0, str(REPO))
