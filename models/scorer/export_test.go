package scorer

// NextFloat32 exposes nextFloat32 to the tests.
var NextFloat32 = nextFloat32
