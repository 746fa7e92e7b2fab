"""``ChannelShuffle``: a module around ``F.channel_shuffle``."""

from __future__ import annotations

from ..functional import vision as V
from .module import Module


class ChannelShuffle(Module):
    """Divide the channels of (N, C, *) into ``groups`` groups and interleave them
    (ShuffleNet).

    Args:
        groups: the number of groups (dividing C).

    Example:
        >>> nn.ChannelShuffle(2)(ag.randn(1, 4, 2, 2)).shape
        (1, 4, 2, 2)
    """

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return V.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
