"""--format torch: every gallery problem's PyTorch module runs with torch alone, and its
check() agrees with torch.autograd and with central differences; derivgen itself never
needs torch, and says so in one line when asked for the format without it.

The tests that run torch skip where it is not installed, and fail where
DERIVGEN_REQUIRE_TOOLS is set (as .ci/run sets it, having installed it)."""

from test_reports import missing_tool


def require_torch():
    """torch, or a skip (a failure where DERIVGEN_REQUIRE_TOOLS is set)."""
    try:
        import torch
    except ImportError:
        missing_tool("PyTorch is not installed (pip install torch==2.13.0, as .ci/run does)")
    return torch
