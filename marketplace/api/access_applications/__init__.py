"""Access applications (有条件开放申请): members apply for a conditionally open asset, the
providing department decides, and lists show each side what it may see."""
