# Per-sample gradients + model ensembling (PyTorch tutorials)
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, vmap, grad, stack_module_state
import copy

torch.manual_seed(0)

class SimpleCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1)
        self.conv2 = nn.Conv2d(4, 8, 3, 1)
        self.fc1 = nn.Linear(8 * 2 * 2, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output

def loss_fn(predictions, targets):
    return F.nll_loss(predictions, targets)

batch_size = 6
data = torch.randn(batch_size, 1, 8, 8)
targets = torch.randint(10, (batch_size,))
model = SimpleCNN()

def compute_grad(sample, target):
    sample = sample.unsqueeze(0)
    target = target.unsqueeze(0)
    prediction = model(sample)
    loss = loss_fn(prediction, target)
    return torch.autograd.grad(loss, list(model.parameters()))

def compute_sample_grads(data, targets):
    sample_grads = [compute_grad(data[i], targets[i]) for i in range(batch_size)]
    sample_grads = zip(*sample_grads)
    sample_grads = [torch.stack(shards) for shards in sample_grads]
    return sample_grads

per_sample_grads = compute_sample_grads(data, targets)
print(per_sample_grads[1].shape)
print(per_sample_grads[0][0, 0])

params = {k: v.detach() for k, v in model.named_parameters()}
buffers = {k: v.detach() for k, v in model.named_buffers()}
print(sorted(params.keys()))

def compute_loss(params, buffers, sample, target):
    batch = sample.unsqueeze(0)
    targets = target.unsqueeze(0)
    predictions = functional_call(model, (params, buffers), (batch,))
    loss = loss_fn(predictions, targets)
    return loss

ft_compute_grad = grad(compute_loss)
ft_compute_sample_grad = vmap(ft_compute_grad, in_dims=(None, None, 0, 0))
ft_per_sample_grads = ft_compute_sample_grad(params, buffers, data, targets)
print(type(ft_per_sample_grads).__name__)
for per_sample_grad, ft_per_sample_grad in zip(per_sample_grads, ft_per_sample_grads.values()):
    print(ft_per_sample_grad.shape, torch.allclose(per_sample_grad, ft_per_sample_grad, atol=3e-3, rtol=1e-5))
    print((per_sample_grad - ft_per_sample_grad).abs().max() < 1e-5)
print(ft_per_sample_grads['fc2.bias'])

# chunk_size
g2 = vmap(ft_compute_grad, in_dims=(None, None, 0, 0), chunk_size=4)(params, buffers, data, targets)
print(torch.allclose(g2['fc1.weight'], ft_per_sample_grads['fc1.weight']))

# Model ensembling
torch.manual_seed(1)
class MLP(nn.Module):
    def __init__(self):
        super(MLP, self).__init__()
        self.fc1 = nn.Linear(12, 16)
        self.fc2 = nn.Linear(16, 16)
        self.fc3 = nn.Linear(16, 5)

    def forward(self, x):
        x = x.flatten(1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.fc2(x)
        x = F.relu(x)
        x = self.fc3(x)
        return x

num_models = 4
data = torch.randn(20, 7, 3, 4)
minibatches = data[:num_models]
models = [MLP() for _ in range(num_models)]
minibatch = data[0]
predictions1 = [model(minibatch) for model in models]
predictions2 = [model(minibatch) for model, minibatch in zip(models, minibatches)]
print(predictions1[2][0])
params, buffers = stack_module_state(models)
print({k: tuple(v.shape) for k, v in params.items()})
print(params['fc1.bias'].requires_grad, params['fc1.bias'].is_leaf)
base_model = copy.deepcopy(models[0])
# base_model = base_model.to('meta')  (meta device: not supported by the port)

def fmodel(params, buffers, x):
    return functional_call(base_model, (params, buffers), (x,))

print([p.size(0) for p in params.values()])
minibatches = torch.randn(num_models, 7, 3, 4)
predictions1_vmap = vmap(fmodel, in_dims=(0, 0, None))(params, buffers, minibatch)
print(predictions1_vmap.shape)
print(torch.allclose(predictions1_vmap, torch.stack(predictions1), atol=1e-3, rtol=1e-5))
predictions2_vmap = vmap(fmodel)(params, buffers, minibatches)
print(predictions2_vmap.shape)
print(predictions2_vmap[3, 6])
expected = torch.stack([m(mb) for m, mb in zip(models, minibatches)])
print(torch.allclose(predictions2_vmap, expected, atol=1e-6))
